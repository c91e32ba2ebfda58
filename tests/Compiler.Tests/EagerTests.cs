using GraphNet.Bench;
using GraphNet.Runtime;

namespace GraphNet.Compiler.Tests;

[CollectionDefinition("memory", DisableParallelization = true)]
public class MemoryCollection;

[Collection("memory")]
public class EagerTests
{
    private static double[] Losses(ExecutionMode mode, ModelSpec spec, int steps, int batch)
    {
        using var exec = new Executor(new Graph(seed: 1), mode, new SessionOptions { UseCompileCache = false });
        var (train, _) = spec.Functions(exec);
        return Enumerable.Range(0, steps).Select(i =>
        {
            var (x, y) = spec.Batch(batch, seed: i);
            return train.Run([x, y])[0].Item();
        }).ToArray();
    }

    [Fact]
    public void EagerAndDeferredGiveTheSameCnnLossesWithDropout()
    {
        var eager = Losses(ExecutionMode.Eager, ModelSpec.Cnn, 5, 16);
        var deferred = Losses(ExecutionMode.Deferred, ModelSpec.Cnn, 5, 16);
        for (int i = 0; i < 5; i++)
            Assert.True(Math.Abs(eager[i] - deferred[i]) <= 1e-4 * Math.Abs(deferred[i]), $"step {i}: eager {eager[i]}, deferred {deferred[i]}");
        Assert.True(deferred[4] != deferred[0]); // it trains
    }

    [Fact]
    public void EagerTensorsHaveValuesAtOnce()
    {
        var g = new Graph();
        using var eager = new EagerContext(g);
        using var step = eager.Step();
        var x = g.Constant(NDArray.From(new float[] { 1, -2, 3 }, 3));
        var y = F.Relu(x) * 2.0;
        Assert.Equal(new[] { 2f, 0f, 6f }, y.Value.As<float>());
        var dx = F.Gradient(F.Sum(y), x)!;
        Assert.Equal(new[] { 2f, 0f, 2f }, dx.Value.As<float>());
    }

    [Fact]
    public void AReshapeToAMultipleOfTheBatchRunsEagerlyAsItDoesCompiled()
    {
        // The word language model's view(-1, ntokens): a time-major [T, N, V] output as T·N rows.
        float[][] Run(ExecutionMode mode)
        {
            using var exec = new Executor(new Graph(seed: 1), mode, new SessionOptions { UseCompileCache = false });
            var w = exec.Graph.Variable("w", [4, 4], Initializer.Uniform(-1, 1));
            var step = exec.Function([TensorSpec.Float("x", [3, -1, 4])], xs =>
            {
                var rows = F.MatMul(F.Reshape(xs[0], -1, 4), w);
                var loss = F.Mean(F.LogSoftmax(rows, 1) * F.Reshape(xs[0], -1, 4));
                return [loss, F.Gradient(loss, w)!, F.Gradient(loss, xs[0])!];
            });
            var x = NDArray.From(Enumerable.Range(0, 3 * 5 * 4).Select(i => MathF.Sin(i)).ToArray(), 3, 5, 4);
            var outs = step.Run([x]);
            Assert.Equal([3, 5, 4], outs[2].Shape);
            return outs.Select(o => o.As<float>().ToArray()).ToArray();
        }
        var eager = Run(ExecutionMode.Eager);
        var deferred = Run(ExecutionMode.Deferred);
        for (int i = 0; i < eager.Length; i++) Assert.Equal(eager[i], deferred[i], (a, b) => Math.Abs(a - b) < 1e-5);
    }

    [Fact]
    public void EagerOptimizerStepsUpdateVariablesImmediately()
    {
        var g = new Graph();
        using var eager = new EagerContext(g);
        var w = g.Variable("w", [2], Initializer.Constant(1));
        var sgd = new Train.Sgd(0.1);
        for (int i = 0; i < 3; i++)
            using (eager.Step()) sgd.Minimize(F.Sum(w * w)); // grad 2w: w ← w·0.8
        Assert.Equal(0.512f, eager.Variables.Get("w").As<float>()[0], 5);
    }

    [Fact]
    public void AScheduledLearningRateReachesEagerStepsAsItDoesCompiledOnes()
    {
        float[] Run(ExecutionMode mode)
        {
            using var exec = new Executor(new Graph(seed: 1), mode, new SessionOptions { UseCompileCache = false });
            var w = exec.Graph.Variable("w", [2], Initializer.Constant(1));
            var sgd = new Train.Sgd(0.1);
            var schedule = new Train.ExponentialLR(sgd, 0.5);
            var step = exec.Function([TensorSpec.Float("x", [2])], xs => { var loss = F.Sum(w * w * xs[0]); return [loss, sgd.Minimize(loss)]; });
            for (int i = 0; i < 3; i++) { step.Run([NDArray.From([1f, 2f], 2)]); schedule.Step(); }
            return exec.Variables.Get("w").As<float>().ToArray();
        }
        // w ← w·(1 − 2·x·lr) with lr 0.1, 0.05, 0.025.
        float[] want = [(float)(0.8 * 0.9 * 0.95), (float)(0.6 * 0.8 * 0.9)];
        Assert.Equal(want, Run(ExecutionMode.Eager), (a, b) => Math.Abs(a - b) < 1e-6);
        Assert.Equal(want, Run(ExecutionMode.Deferred), (a, b) => Math.Abs(a - b) < 1e-6);
    }

    [Fact]
    public void AThousandEagerStepsDoNotGrowMemory()
    {
        var spec = new ModelSpec("small", [16], g =>
        {
            var l1 = new Nn.Linear(g, "l1", 16, 32);
            var l2 = new Nn.Linear(g, "l2", 32, 10);
            return x => l2.Forward(F.Dropout(F.Relu(l1.Forward(x)), 0.2));
        }, F.CrossEntropy, () => new Train.Adam());
        using var exec = new Executor(new Graph(seed: 1), ExecutionMode.Eager);
        var (train, _) = spec.Functions(exec);
        var (x, y) = spec.Batch(8);
        long MemoryAfter(int steps)
        {
            for (int i = 0; i < steps; i++) train.Run([x, y]);
            GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
            return GC.GetTotalMemory(true);
        }
        MemoryAfter(100);
        int nodes = exec.Graph.Nodes.Count;
        long before = MemoryAfter(100);
        long after = MemoryAfter(900);
        Assert.Equal(nodes, exec.Graph.Nodes.Count); // the tape is released every step
        Assert.Equal(0, exec.Eager!.LiveValues);   // and so are its values
        Assert.True(after - before < 2_000_000, $"managed memory grew by {after - before:N0} bytes over 900 eager steps");
    }

    private static string Failure(ExecutionMode mode, Action<Executor> body)
    {
        using var exec = new Executor(new Graph(seed: 1), mode, new SessionOptions { UseCompileCache = false });
        return Assert.Throws<GraphException>(() => body(exec)).Message;
    }

    [Fact]
    public void EagerChecksInputsAgainstTheirSpecsWithDeferredModesMessages()
    {
        string Run(ExecutionMode mode) => Failure(mode, exec =>
        {
            var f = exec.Function([TensorSpec.Float("x", -1, 1, 28, 28)], xs => [F.Sum(xs[0])]);
            f.Run([NDArray.Zeros(DType.Float32, 64, 784)]);
        });
        var eager = Run(ExecutionMode.Eager);
        Assert.Equal(Run(ExecutionMode.Deferred), eager);
        Assert.Contains("feed for 'x' has shape [64,784] but the placeholder is f32[N,1,28,28]", eager);
    }

    [Theory]
    [InlineData(ExecutionMode.Eager)]
    [InlineData(ExecutionMode.Deferred)]
    public void TwoOptimizersOfOneNameAreRejectedAndTheMessageNamesTheArgument(ExecutionMode mode)
    {
        var message = Failure(mode, exec =>
        {
            var w = exec.Graph.Variable("w", [3], Initializer.Constant(1));
            var f = exec.Function([TensorSpec.Float("x", 3)], xs =>
            {
                var loss = F.Sum(w * xs[0]);
                return [loss, new Train.Adam().Minimize(loss), new Train.Adam().Minimize(loss)];
            });
            f.Run([NDArray.From(new float[] { 1, 2, 3 }, 3)]);
        });
        Assert.Contains("another optimizer named 'adam'", message);
        Assert.Contains("name: \"adam2\"", message);
    }

    [Fact]
    public void EagerRejectsASecondLayerOfTheSameName()
    {
        var g = new Graph();
        using var eager = new EagerContext(g);
        _ = new Nn.Linear(g, "fc", 4, 2);
        var e = Assert.Throws<GraphException>(() => new Nn.Linear(g, "fc", 4, 2));
        Assert.Contains("a variable named 'fc.weight' already exists", e.Message);
        Assert.Contains("make layers once, outside the step", e.Message);
    }

    [Fact]
    public void EagerErrorsNameTheUsersLine()
    {
        var g = new Graph();
        using var eager = new EagerContext(g);
        using var step = eager.Step();
        var a = g.Constant(NDArray.Zeros(DType.Float32, 2, 3));
        var e = Assert.Throws<GraphException>(() => F.MatMul(a, a)); // the line this test names
        Assert.Contains("EagerTests.cs:", e.Message);
        Assert.DoesNotContain("at ?", e.Message);
    }

    [Fact]
    public void EagerComputesOnlyTheGradientsAskedFor()
    {
        // PyTorch's needs_input_grad: the image's gradient through the first convolution is never run.
        var g = new Graph(seed: 1);
        using var eager = new EagerContext(g);
        var conv = new Nn.Conv2d(g, "conv", 1, 4, 3);
        using var step = eager.Step();
        var x = g.Constant(BackendParity.Random(new Random(1), [2, 1, 8, 8]));
        var grads = F.Gradients([F.Sum(F.Relu(conv.Forward(x)))], [conv.Weight, conv.Bias!]);
        Assert.All(grads, d => Assert.NotNull(d));
        Assert.DoesNotContain(g.Nodes, n => n.Op is ConvTranspose2dOp);
        Assert.Contains(g.Nodes, n => n.Op is Conv2dFilterGradOp);
    }

    [Fact]
    public void EagerStepsReuseTheirArraysAndKeepTheResultsRight()
    {
        // After the first steps every value of a step gets an array the step before freed; the
        // losses still match deferred mode, so no array is reused while something still reads it.
        var eagerLosses = Losses(ExecutionMode.Eager, ModelSpec.Mlp, 6, 16);
        var deferred = Losses(ExecutionMode.Deferred, ModelSpec.Mlp, 6, 16);
        for (int i = 0; i < 6; i++)
            Assert.True(Math.Abs(eagerLosses[i] - deferred[i]) <= 1e-4 * Math.Abs(deferred[i]),
                $"step {i}: {eagerLosses[i]} vs {deferred[i]}");
        using var exec = new Executor(new Graph(seed: 1), ExecutionMode.Eager);
        var (train, _) = ModelSpec.Mlp.Functions(exec);
        var (x, y) = ModelSpec.Mlp.Batch(64);
        for (int i = 0; i < 3; i++) train.Run([x, y]);
        Assert.True(exec.Eager!.PooledArrays > 0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        train.Run([x, y]);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // The step's values are megabytes (fc1's weight and its Adam slots alone are 1.6 MB each); what is left is bookkeeping.
        Assert.True(allocated < 1_000_000, $"an eager MLP step allocated {allocated:N0} bytes");
    }
}

