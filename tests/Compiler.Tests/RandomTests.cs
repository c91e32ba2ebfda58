namespace GraphNet.Compiler.Tests;

/// <summary>Random ops in the graph: their distributions, new draws every run, and the same draws on every backend and in eager mode.</summary>
public class RandomTests
{
    [Fact]
    public void DrawsFollowTheirDistributionsAndChangeEveryRun()
    {
        var g = new Graph(seed: 5);
        var x = g.Placeholder([-1, 1000], "x");
        var u = F.RandLike(x, -2, 3);
        var n = F.RandnLike(x, 1.5, 0.5);
        var b = F.Bernoulli(F.ZerosLike(x) + 0.25);
        var fixedShape = F.Randn(g, [3, 4], dtype: DType.Float64);
        using var s = new Session(g, new SessionOptions { UseCompileCache = false });
        var feeds = new Dictionary<Tensor, NDArray> { [x] = NDArray.Zeros(DType.Float32, 100, 1000) };
        var r1 = s.Run([u, n, b, fixedShape], feeds);
        var r2 = s.Run([u, n, b, fixedShape], feeds);
        double[] U = r1[0].ToDoubleArray(), N = r1[1].ToDoubleArray(), B = r1[2].ToDoubleArray();
        int count = U.Length; // 100,000 draws: the sample moments are within 5 standard errors
        Assert.All(U, v => Assert.InRange(v, -2, 3));
        Assert.InRange(U.Average(), 0.5 - 5 * 5 / Math.Sqrt(12 * count), 0.5 + 5 * 5 / Math.Sqrt(12 * count));
        Assert.InRange(N.Average(), 1.5 - 5 * 0.5 / Math.Sqrt(count), 1.5 + 5 * 0.5 / Math.Sqrt(count));
        double sd = Math.Sqrt(N.Select(v => (v - 1.5) * (v - 1.5)).Average());
        Assert.InRange(sd, 0.5 * (1 - 5 / Math.Sqrt(2.0 * count)), 0.5 * (1 + 5 / Math.Sqrt(2.0 * count)));
        Assert.All(B, v => Assert.True(v is 0 or 1));
        Assert.InRange(B.Average(), 0.25 - 5 * Math.Sqrt(0.25 * 0.75 / count), 0.25 + 5 * Math.Sqrt(0.25 * 0.75 / count));
        Assert.Equal(new[] { 3, 4 }, r1[3].Shape);
        Assert.Equal(DType.Float64, r1[3].DType);
        for (int i = 0; i < 4; i++) Assert.NotEqual(r1[i].ToDoubleArray(), r2[i].ToDoubleArray());
        Assert.NotEqual(U, N); // two ops draw two streams
    }

    [Fact]
    public void EveryBackendAndEagerModeDrawTheSameValues()
    {
        NDArray[] Draw(SessionOptions? options, bool eager)
        {
            using var exec = new Executor(new Graph(seed: 9), eager ? ExecutionMode.Eager : ExecutionMode.Deferred,
                options ?? new SessionOptions { UseCompileCache = false });
            var step = exec.Function([TensorSpec.Float("x", [-1, 6])], xs =>
                [F.RandLike(xs[0]) * xs[0], F.RandnLike(xs[0], 0, 2) + xs[0], F.Bernoulli(F.Sigmoid(xs[0]))]);
            var x = NDArray.From(Enumerable.Range(0, 18).Select(i => i / 9f - 1).ToArray(), 3, 6);
            step.Run([x]); // a second run: the run counter takes part in the draw
            return step.Run([x]);
        }
        var reference = Draw(new SessionOptions { Backend = Backend.Interpreter }, eager: false);
        foreach (var (name, got) in new[] { ("compiled", Draw(null, false)), ("eager", Draw(null, true)),
                     ("ilgpu", Draw(BackendParity.Ilgpu, false)) })
            for (int i = 0; i < reference.Length; i++)
                Assert.True(reference[i].ToDoubleArray().SequenceEqual(got[i].ToDoubleArray()), $"{name} draws differ in output {i}");
    }

    [Fact]
    public void NoGradientFlowsThroughADrawButAReparameterizedSampleCarriesOne()
    {
        var g = new Graph(seed: 2);
        var mu = g.Placeholder(DType.Float64, [4], "mu");
        var eps = F.RandnLike(mu);
        var z = mu + F.Exp(mu * 0.5) * eps; // the VAE's sample
        var grads = F.Gradients([F.Sum(z)], [mu]);
        using var s = new Session(g, new SessionOptions { Backend = Backend.Interpreter });
        var r = s.Run([z, eps, grads[0]!], new Dictionary<Tensor, NDArray> { [mu] = NDArray.From([0.1, -0.2, 0.3, 0.0], 4) });
        var e = r[1].ToDoubleArray();
        double[] mus = [0.1, -0.2, 0.3, 0.0];
        for (int i = 0; i < 4; i++) Assert.Equal(1 + 0.5 * Math.Exp(mus[i] * 0.5) * e[i], r[2].GetDouble(i), 12);
    }
}
