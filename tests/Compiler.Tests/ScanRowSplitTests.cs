using GraphNet.Bench;

namespace GraphNet.Compiler.Tests;

/// <summary>
/// A scan whose body keeps the rows of the batch apart (a recurrent cell) runs on parts of the
/// batch on several cores: to the same bits as one loop over the whole batch; a body that mixes
/// rows runs whole. The step's GEMM by a captured weight packs it once a run. (Tests here switch
/// <see cref="ScanRunner.SplitRows"/>, so they run one at a time.)
/// </summary>
public class ScanRowSplitTests
{
    private static int ExpectedParts(int batch) => Math.Min(Environment.ProcessorCount, batch / RowSplit.MinRows);

    /// <summary>Three Adam steps of the scanned LSTM at batch 64: the losses and every variable after them.</summary>
    private static (float[] Losses, Dictionary<string, float[]> Variables, string[] Parts) Train(bool split)
    {
        var previous = ScanRunner.SplitRows;
        ScanRunner.SplitRows = split;
        try
        {
            var m = BenchModel.Lstm();
            using var s = new Session(m.Graph, new SessionOptions { UseCompileCache = false });
            var feeds = m.Batch(64, seed: 5);
            var losses = Enumerable.Range(0, 3).Select(_ => s.Run([m.Loss, m.TrainStep], feeds)[0].Item()).Select(v => (float)v).ToArray();
            var exe = s.Compiled([m.Loss, m.TrainStep], feeds);
            var parts = exe.ScanRunners.Select(r => $"{r.LastParts} {r.RowSplitBlocked}".Trim()).ToArray();
            // Each step's GEMM by the recurrent weight (h·W_hhᵀ forward, its gradient backward) packs the weight once a run.
            Assert.All(exe.Bodies.Values, body => Assert.Equal(1, body.PackedMatMuls));
            var variables = s.Variables.Values.ToDictionary(kv => kv.Key, kv => kv.Value.ToFloatArray());
            return (losses, variables, parts);
        }
        finally { ScanRunner.SplitRows = previous; }
    }

    [Fact]
    public void TheLstmsScansRunOnPartsOfTheBatchToTheSameBits()
    {
        var whole = Train(split: false);
        var split = Train(split: true);
        Assert.All(whole.Parts, p => Assert.Equal("1", p));
        Assert.Equal(2, split.Parts.Length); // the forward scan and its gradient, both split
        Assert.All(split.Parts, p => Assert.Equal($"{ExpectedParts(64)}", p));
        Assert.Equal(whole.Losses, split.Losses);
        Assert.Equal(whole.Variables.Keys.Order(), split.Variables.Keys.Order());
        foreach (var (name, values) in whole.Variables) Assert.True(values.SequenceEqual(split.Variables[name]), $"{name} differs");
    }

    [Fact]
    public void ABodyThatMixesRowsRunsWholeAndStillMatchesTheInterpreter()
    {
        var rng = new Random(3);
        var g = new Graph(seed: 2);
        var xs = g.Placeholder([6, -1, 4], "xs");
        var w = g.Variable("w", [4, 4], Initializer.Uniform(-0.5, 0.5));
        // Each row's next state reads the batch's mean state: the rows cannot run apart.
        var (last, ys) = F.Scan((c, x) =>
        {
            var h = F.Tanh(F.MatMul(x[0], w) + c[0] - F.Mean(c[0], [0], keepDims: true));
            return ([h], [h]);
        }, [F.ZerosLike(F.Reshape(F.Slice(xs, 0, 0, 1), [-1, 4]))], [xs]);
        var loss = F.Sum(F.Square(ys[0])) + F.Sum(last[0]);
        var dw = F.Gradients([loss], [w])[0]!;
        var feeds = new Dictionary<Tensor, NDArray> { [xs] = BackendParity.Random(rng, [6, 32, 4]) };
        BackendParity.Check(g, [loss, ys[0], dw], feeds, "a scan mixing rows");
        using var s = new Session(g, new SessionOptions { UseCompileCache = false });
        s.Run([loss, dw], feeds);
        var runners = s.Compiled([loss, dw], feeds).ScanRunners.ToList();
        Assert.NotEmpty(runners);
        Assert.All(runners, r => Assert.Equal(1, r.LastParts));
        Assert.True(runners.Any(r => r.RowSplitBlocked is { } why && why.Contains("mixes rows", StringComparison.Ordinal)),
            string.Join("; ", runners.Select(r => r.RowSplitBlocked)));
    }

    [Fact]
    public void ABodyThatDrawsRandomNumbersRunsWhole()
    {
        // Dropout's mask is drawn by element index: in parts of the batch it would be another mask.
        var g = new Graph(seed: 2);
        var xs = g.Placeholder([5, -1, 8], "xs");
        var (last, _) = F.Scan((c, x) => ([F.Dropout(F.Tanh(x[0] + c[0]), 0.5)], []),
            [F.ZerosLike(F.Reshape(F.Slice(xs, 0, 0, 1), [-1, 8]))], [xs]);
        var feeds = new Dictionary<Tensor, NDArray> { [xs] = BackendParity.Random(new Random(1), [5, 64, 8]) };
        using var s = new Session(g, new SessionOptions { UseCompileCache = false });
        s.Run([last[0]], feeds);
        var runner = Assert.Single(s.Compiled([last[0]], feeds).ScanRunners);
        Assert.Equal(1, runner.LastParts);
        Assert.Contains("random", runner.RowSplitBlocked);
    }
}
