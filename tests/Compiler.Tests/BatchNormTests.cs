namespace GraphNet.Compiler.Tests;

/// <summary>
/// BatchNorm against PyTorch's definition written out here: batch statistics in training, running
/// ones in evaluation, and the running statistics updated by the train op itself.
/// </summary>
public class BatchNormTests
{
    private static readonly float[] X = [0.5f, -1f, 2f, 0.3f, 1.5f, -0.7f, -2f, 0.9f, 0.1f, 1.1f, -0.4f, 0.8f]; // [N = 3, C = 2, L = 2]

    private static (double[] Mean, double[] BiasedVar, double[] UnbiasedVar) Stats()
    {
        var mean = new double[2]; var v = new double[2];
        for (int c = 0; c < 2; c++)
        {
            var vals = Enumerable.Range(0, 3).SelectMany(n => new[] { X[(n * 2 + c) * 2], X[(n * 2 + c) * 2 + 1] }).Select(f => (double)f).ToArray();
            mean[c] = vals.Average();
            v[c] = vals.Select(a => (a - mean[c]) * (a - mean[c])).Average();
        }
        return (mean, v, v.Select(a => a * 6 / 5).ToArray());
    }

    [Theory]
    [InlineData(ExecutionMode.Deferred), InlineData(ExecutionMode.Eager)]
    public void TrainingNormalizesByTheBatchAndTheStepMovesTheRunningStatistics(ExecutionMode mode)
    {
        using var exec = new Executor(new Graph(seed: 1), mode, new SessionOptions { UseCompileCache = false });
        var bn = new Nn.BatchNorm1d(exec.Graph, "bn", 2, momentum: 0.2);
        var sgd = new Train.Sgd(0.0); // the weights stay put: only the running statistics move
        var step = exec.Function([TensorSpec.Float("x", [-1, 2, 2])], xs =>
        {
            var y = bn.Forward(xs[0]);
            return [y, sgd.Minimize(F.Sum(F.Square(y)))];
        });
        var x = NDArray.From(X, 3, 2, 2);
        var (mean, biased, unbiased) = Stats();
        NDArray y0 = step.Run([x])[0].Clone();
        step.Run([x]);
        for (int i = 0; i < 12; i++)
        {
            int c = i / 2 % 2;
            Assert.Equal((X[i] - mean[c]) / Math.Sqrt(biased[c] + 1e-5), y0.GetDouble(i), 5);
        }
        // Two steps of running ← 0.8·running + 0.2·batch, from zeros and ones.
        var rm = exec.Variables.Get("bn.running_mean"); var rv = exec.Variables.Get("bn.running_var");
        for (int c = 0; c < 2; c++)
        {
            Assert.Equal(mean[c] * (1 - 0.8 * 0.8), rm.GetDouble(c), 5);
            Assert.Equal(0.64 + unbiased[c] * (1 - 0.64), rv.GetDouble(c), 5);
        }
    }

    [Fact]
    public void EvaluationNormalizesByTheRunningStatisticsAndMovesNothing()
    {
        var g = new Graph(seed: 1);
        var bn = new Nn.BatchNorm1d(g, "bn", 2);
        var x = g.Placeholder([-1, 2, 2], "x");
        var y = bn.Forward(x);
        using var s = new Session(g, new SessionOptions { UseCompileCache = false });
        s.SetVariable("bn.running_mean", NDArray.From([0.5f, -0.25f], 2));
        s.SetVariable("bn.running_var", NDArray.From([4f, 0.25f], 2));
        s.SetVariable("bn.weight", NDArray.From([2f, 1f], 2));
        s.SetVariable("bn.bias", NDArray.From([0f, 1f], 2));
        var feeds = new Dictionary<Tensor, NDArray> { [x] = NDArray.From(X, 3, 2, 2), [g.Training] = NDArray.From([false]) };
        var got = s.Run(y, feeds);
        double[] rm = [0.5, -0.25], rv = [4, 0.25], w = [2, 1], b = [0, 1];
        for (int i = 0; i < 12; i++)
        {
            int c = i / 2 % 2;
            Assert.Equal((X[i] - rm[c]) / Math.Sqrt(rv[c] + 1e-5) * w[c] + b[c], got.GetDouble(i), 5);
        }
        Assert.Equal(new[] { 0.5f, -0.25f }, s.GetVariable("bn.running_mean").As<float>());
    }

    [Fact]
    public void TheGradientThroughATrainingBatchNormMatchesTheInterpreterAndTwoDimensionsWork()
    {
        var rng = new Random(3);
        var g = new Graph(seed: 2);
        var x = g.Placeholder([-1, 3, 2, 2], "x");
        var bn = new Nn.BatchNorm2d(g, "bn", 3);
        var loss = F.Sum(F.Square(bn.Forward(x)) * F.Sigmoid(x));
        var grads = F.Gradients([loss], [x, bn.Weight!, bn.Bias!]).Cast<Tensor>().ToArray();
        BackendParity.Check(g, [loss, .. grads], new Dictionary<Tensor, NDArray> { [x] = BackendParity.Random(rng, [4, 3, 2, 2]) }, "batch_norm2d");
        Assert.Throws<GraphException>(() => bn.Forward(g.Placeholder([-1, 3], "flat")));
    }

    [Theory]
    [InlineData(ExecutionMode.Deferred), InlineData(ExecutionMode.Eager)]
    public void ALayerRunTwiceInAStepMovesItsStatisticsTwiceAndAnotherFunctionItsOwnOnce(ExecutionMode mode)
    {
        using var exec = new Executor(new Graph(seed: 1), mode, new SessionOptions { UseCompileCache = false });
        var bn = new Nn.BatchNorm1d(2, momentum: 0.5);
        var sgd = new Train.Sgd(0.0);
        var spec = TensorSpec.Float("a", [-1, 2]);
        // A GAN discriminator's step: real and fake batches through one layer, one loss.
        var both = exec.Function([spec, TensorSpec.Float("b", [-1, 2])], xs =>
        {
            var loss = F.Sum(F.Square(bn.Forward(xs[0]))) + F.Sum(F.Square(bn.Forward(xs[1])));
            return [sgd.Minimize(loss)];
        });
        // And the generator's step, another function through the same layer.
        var one = exec.Function([spec], xs => [sgd.Minimize(F.Sum(bn.Forward(xs[0])))]);
        var a = NDArray.From([1f, 2f, 3f, 6f], 2, 2);   // column means 2, 4
        var b = NDArray.From([5f, -2f, 7f, 0f], 2, 2);  // column means 6, -1
        both.Run([a, b]);
        var rm = exec.Variables.Get("running_mean");
        // r ← lerp(lerp(0, mean_a, 0.5), mean_b, 0.5): 0.5·(0.5·2) + 0.5·6 = 3.5 and 0.5·(0.5·4) + 0.5·(−1) = 0.5.
        Assert.Equal(3.5, rm.GetDouble(0), 5);
        Assert.Equal(0.5, rm.GetDouble(1), 5);
        one.Run([a]); // its own single update, needing no other function's inputs
        rm = exec.Variables.Get("running_mean");
        Assert.Equal(0.5 * 3.5 + 0.5 * 2, rm.GetDouble(0), 5);
        Assert.Equal(0.5 * 0.5 + 0.5 * 4, rm.GetDouble(1), 5);
    }
}
