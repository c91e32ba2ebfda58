using GraphNet.Bench;
using GraphNet.Nn;

namespace GraphNet.Compiler.Tests;

/// <summary>F.Scan on every backend: against the interpreter, compiled once for any length, its twin merged, eager alike.</summary>
public class ScanTests
{
    /// <summary>A reverse scan with two carries and two outputs per step, and a scan with no sequence, with every gradient.</summary>
    private static (Graph, Tensor[], Dictionary<Tensor, NDArray>) TwoScans(int steps, bool recompute)
    {
        var rng = new Random(11);
        var g = new Graph(seed: 3);
        var xs = g.Placeholder([steps, -1, 3], "xs");
        var h0 = g.Placeholder([-1, 4], "h0");
        var w = g.Variable("w", [3, 4], Initializer.Uniform(-0.5, 0.5));
        var u = g.Variable("u", [4, 4], Initializer.Uniform(-0.5, 0.5));
        var (last, ys) = F.Scan((c, x) =>
        {
            var h = F.Tanh(F.MatMul(x[0], w) + F.MatMul(c[0], u) + c[1]);
            return ([h, c[1] * 0.9], [h, F.Sigmoid(h) * F.Slice(x[0], 1, 0, 1)]);
        }, [h0, F.ZerosLike(h0) + 0.1], [xs], reverse: true, recompute: recompute);
        var (powers, _) = F.Scan((c, _) => ([c[0] * F.Tanh(c[0])], []), [F.Sum(w, [0])], [], length: 3);
        var loss = F.Sum(F.Square(ys[0])) + F.Mean(ys[1]) + F.Sum(last[0] * last[1]) + F.Sum(powers[0]);
        var grads = F.Gradients([loss], [w, u, xs, h0]).Cast<Tensor>().ToArray();
        var feeds = new Dictionary<Tensor, NDArray> { [xs] = BackendParity.Random(rng, [steps, 2, 3]), [h0] = BackendParity.Random(rng, [2, 4]) };
        return (g, [loss, ys[0], ys[1], last[0], .. grads], feeds);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ScansAndTheirGradientsMatchTheInterpreterCompiled(bool recompute)
    {
        var (g, fetches, feeds) = TwoScans(5, recompute);
        BackendParity.Check(g, fetches, feeds, "scans");
    }

    [Fact]
    public void ScansAndTheirGradientsMatchTheInterpreterOnIlgpu()
    {
        var (g, fetches, feeds) = TwoScans(3, recompute: false);
        BackendParity.Check(g, fetches, feeds, "scans on ilgpu", options: BackendParity.Ilgpu);
    }

    [Fact]
    public void AScanAndTheTwinItsGradientAddsRunAsOneScanWhoseBodyIsCompiledOnce()
    {
        var m = BenchModel.Lstm();
        using var s = new Session(m.Graph, new SessionOptions { UseCompileCache = false });
        var exe = s.Compiled([m.Loss, m.TrainStep], m.Batch(4));
        var scans = exe.Kernels.Where(k => k.Anchor?.Op is ScanOp).Select(k => (ScanOp)k.Anchor!.Op).ToList();
        Assert.Equal(2, scans.Count); // the forward scan keeping residuals, and the backward one
        Assert.Single(scans, sc => sc.Extends is not null);
        Assert.Equal(2, exe.Bodies.Count);
        // Inside the body, the gate slices are read in place as they are in the unrolled step.
        foreach (var body in exe.Bodies.Values) Assert.DoesNotContain(body.Kernels, k => k.Anchor?.Op is SliceOp);
        // The biases' gradients are summed once after the loop, not reduced and added every step;
        // the carries kept as residuals are stacked by the loop from its inputs, not copied out by the step.
        Assert.All(exe.Bodies.Values, body => Assert.DoesNotContain(body.Kernels, k => k.Kind == NodeClass.Reduce));
        Assert.All(exe.Bodies.Values, body => Assert.DoesNotContain(body.Unit.Fetches, f => f.Node.Op is PlaceholderOp));
        Assert.Contains(scans, sc => sc.Body.PassedYs.Any(p => p >= 0));
        Assert.True(m.Graph.Nodes.Count < 200, $"the scanned LSTM's graph has {m.Graph.Nodes.Count} nodes");
    }

    [Fact]
    public void ASymbolicLengthRunsEveryLengthWithOneCompilation()
    {
        var g = new Graph(seed: 1);
        var xs = g.Placeholder([-1, 2, 3], "xs"); // [T, batch 2, 3] with T = N
        var w = g.Variable("w", [3, 3], Initializer.Uniform(-1, 1));
        var (last, ys) = F.Scan((c, x) => { var h = F.Tanh(F.MatMul(x[0] + c[0], w)); return ([h], [h]); },
            [g.Constant(NDArray.Zeros(DType.Float32, 2, 3))], [xs]);
        Assert.Equal(new Shape(-1, 2, 3), ys[0].Shape);
        var loss = F.Sum(ys[0]) + F.Sum(last[0]);
        var dw = F.Gradients([loss], [w])[0]!;
        using var interp = new Session(g, new SessionOptions { Backend = Backend.Interpreter });
        using var s = new Session(g, new SessionOptions { UseCompileCache = false });
        foreach (int steps in new[] { 3, 7, 1 })
        {
            var feeds = new Dictionary<Tensor, NDArray> { [xs] = BackendParity.Random(new Random(steps), [steps, 2, 3]) };
            var want = interp.Run([loss, dw], feeds);
            var got = s.Run([loss, dw], feeds);
            for (int i = 0; i < 2; i++)
                Assert.Equal(want[i].ToDoubleArray(), got[i].ToDoubleArray(), (a, b) => Math.Abs(a - b) <= 1e-4 * (1 + Math.Abs(a)));
        }
        Assert.Equal(1, s.CompileCount);
    }

    [Fact]
    public void EagerModeRunsTheScannedLstmStepByStepToTheSameLosses()
    {
        double[] Losses(ExecutionMode mode)
        {
            using var exec = new Executor(new Graph(seed: 1), mode, new SessionOptions { UseCompileCache = false });
            var (train, _) = ModelSpec.Lstm.Functions(exec);
            return Enumerable.Range(0, 3).Select(i =>
            {
                var (x, y) = ModelSpec.Lstm.Batch(4, seed: 0); // one batch: the loss must fall
                return train.Run([x, y])[0].Item();
            }).ToArray();
        }
        var eager = Losses(ExecutionMode.Eager);
        var deferred = Losses(ExecutionMode.Deferred);
        for (int i = 0; i < 3; i++)
            Assert.True(Math.Abs(eager[i] - deferred[i]) <= 1e-4 * Math.Abs(deferred[i]), $"step {i}: eager {eager[i]}, deferred {deferred[i]}");
        Assert.True(deferred[2] < deferred[0]);
    }

    [Fact]
    public void TheScannedAndTheUnrolledLstmComputeTheSameLossAndGradients()
    {
        var rng = new Random(2);
        var g = new Graph(seed: 4);
        var x = g.Placeholder([-1, 6, 3], "x");
        var scanned = new LSTM(g, "a", 3, 5, batchFirst: true);
        var unrolled = new LSTM(g, "b", 3, 5, batchFirst: true) { Unroll = true };
        unrolled.OverrideParameters(scanned.WeightIh, scanned.WeightHh, scanned.BiasIh, scanned.BiasHh);
        var (oa, (ha, _)) = scanned.Forward(x);
        var (ob, (hb, _)) = unrolled.Forward(x);
        var la = F.Sum(F.Square(oa)) + F.Sum(ha);
        var lb = F.Sum(F.Square(ob)) + F.Sum(hb);
        var ga = F.Gradients([la], scanned.Parameters().Append(x).ToList()).Cast<Tensor>().ToArray();
        var gb = F.Gradients([lb], scanned.Parameters().Append(x).ToList()).Cast<Tensor>().ToArray();
        using var s = new Session(g, new SessionOptions { UseCompileCache = false });
        var feeds = new Dictionary<Tensor, NDArray> { [x] = BackendParity.Random(rng, [2, 6, 3]) };
        var a = s.Run([la, .. ga], feeds);
        var b = s.Run([lb, .. gb], feeds);
        for (int i = 0; i < a.Length; i++)
            Assert.Equal(b[i].ToDoubleArray(), a[i].ToDoubleArray(), (p, q) => Math.Abs(p - q) <= 1e-5 * (1 + Math.Abs(p)));
    }
}
