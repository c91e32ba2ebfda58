using System.Globalization;
using GraphNet.Train;

namespace GraphNet.Compiler.Tests;

/// <summary>Defects found by reading and probing (issue 18), each with the test that failed before its fix.</summary>
public class ReliabilityTests
{
    private static Dictionary<Tensor, NDArray> Feed(Tensor x, params float[] values) =>
        new() { [x] = NDArray.From(values, 1, values.Length) };

    [Fact]
    public void ConstantsThatPrintAlikeInACommaDecimalCultureStayApart()
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            // de-DE writes [1.5, 5] and [1, 5.5] both as "1,5,5": common-subexpression elimination merged them.
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            var g = new Graph();
            var x = g.Placeholder([-1, 2], "x");
            var a = x * g.Constant(NDArray.From(new[] { 1.5f, 5f }, 2));
            var b = x * g.Constant(NDArray.From(new[] { 1f, 5.5f }, 2));
            using var s = new Session(g, new SessionOptions { UseCompileCache = false });
            var r = s.Run([a, b], Feed(x, 1, 1));
            Assert.Equal(new[] { 1.5f, 5f }, r[0].As<float>().ToArray());
            Assert.Equal(new[] { 1f, 5.5f }, r[1].As<float>().ToArray());
        }
        finally { CultureInfo.CurrentCulture = saved; }
    }

    [Fact]
    public void EqualConstantsStillMerge()
    {
        var g = new Graph();
        var x = g.Placeholder([-1, 2], "x");
        var y = x * g.Constant(NDArray.From(new[] { 1.5f, 2f }, 2)) + x * g.Constant(NDArray.From(new[] { 1.5f, 2f }, 2));
        using var s = new Session(g, new SessionOptions { UseCompileCache = false });
        var exe = s.Compiled([y], Feed(x, 1, 1));
        Assert.Single(exe.Unit.Graph.Nodes, n => n.Op is ConstantOp);
        Assert.Equal(new[] { 3f, 4f }, s.Run(y, Feed(x, 1, 1)).As<float>().ToArray());
    }

    [Fact]
    public void ACacheFolderThatCannotBeWrittenIsSkipped()
    {
        // As root, permissions do not stop a write; /sys refuses one to anybody.
        if (!OperatingSystem.IsLinux() || !Directory.Exists("/sys/kernel")) return;
        var dir = "/sys/graphnet-cache-" + Guid.NewGuid().ToString("N");
        Assert.Throws<UnauthorizedAccessException>(() => Directory.CreateDirectory(dir));
        var g = new Graph();
        var x = g.Placeholder([-1, 2], "x");
        var y = F.Tanh(x) * 2.0;
        for (int session = 0; session < 2; session++)
        {
            using var s = new Session(g, new SessionOptions { CacheDirectory = dir });
            Assert.Equal(2 * MathF.Tanh(0.5f), s.Run(y, Feed(x, 0.5f, 0.5f)).As<float>()[0], 1e-6f);
            Assert.False(s.Compiled([y], Feed(x, 0.5f, 0.5f)).Report.Restored);
        }
    }

    [Fact]
    public void SetVariableCopiesTheCallersArray()
    {
        var g = new Graph();
        var x = g.Placeholder([-1, 2], "x");
        var w = g.Variable("w", [2, 1], Initializer.Constant(0));
        var loss = F.Sum(F.MatMul(x, w));
        var train = new Sgd(0.5).Minimize(loss);
        using var s = new Session(g, new SessionOptions { UseCompileCache = false });
        var mine = NDArray.From(new[] { 1f, 2f }, 2, 1);
        s.SetVariable("w", mine);
        for (int step = 0; step < 3; step++) s.Run([loss, train], Feed(x, 1, 1));
        Assert.Equal(new[] { 1f, 2f }, mine.As<float>().ToArray()); // the compiled step wrote its own buffers
        Assert.Equal(new[] { -0.5f, 0.5f }, s.GetVariable("w").As<float>().ToArray()); // three steps of -0.5 each
        var got = s.GetVariable("w");
        got.As<float>()[0] = 99;
        Assert.Equal(-0.5f, s.GetVariable("w").As<float>()[0]);
    }

    [Fact]
    public void CastsBetweenFloat32AndFloat64CompileAndMatchTheInterpreter()
    {
        // A fused loop has one element type; a cast to float64 inside one emitted C# that did not compile.
        var g = new Graph();
        var x = g.Placeholder([-1, 3], "x");
        var wide = F.Cast(x + 1.0, DType.Float64);
        var y = F.Cast(F.Sqrt(wide * 2.0) - 0.5, DType.Float32) * x;
        var feeds = Feed(x, 0.25f, 1.5f, 3f);
        using var compiled = new Session(g, new SessionOptions { UseCompileCache = false });
        using var interpreter = new Session(g, new SessionOptions { Backend = Backend.Interpreter });
        var expected = new[] { 0.25f, 1.5f, 3f }.Select(v => (float)(Math.Sqrt((v + 1.0) * 2) - 0.5) * v).ToArray();
        Assert.Equal(expected, compiled.Run(y, feeds).As<float>().ToArray());
        Assert.Equal(expected, interpreter.Run(y, feeds).As<float>().ToArray());
        Assert.Equal(DType.Float64, compiled.Run(wide, feeds).DType);
    }

    [Fact]
    public void CheckNumericsStopsAtAValueThatFusionWouldKeepInARegister()
    {
        // exp(100) is infinite in float32 and 1/inf is 0: fused, the infinity was never stored.
        var g = new Graph();
        var x = g.Placeholder([-1, 2], "x");
        var y = F.Sum(1.0 / F.Exp(x));
        var feeds = Feed(x, 100, 100);
        using (var fused = new Session(g, new SessionOptions { UseCompileCache = false }))
            Assert.Equal(0f, fused.Run(y, feeds).As<float>()[0]);
        using var checking = new Session(g, new SessionOptions { CheckNumerics = true, UseCompileCache = false });
        var e = Assert.ThrowsAny<GraphException>(() => checking.Run(y, feeds));
        Assert.Contains("exp", e.Message);
        Assert.Contains("not finite", e.Message);
        var exe = checking.Compiled([y], feeds);
        Assert.All(exe.Kernels, k => Assert.Single(k.Nodes)); // every value is a kernel's output
    }

    [Fact]
    public void BuffersForManyBatchSizesAreNotKeptForever()
    {
        var g = new Graph();
        var x = g.Placeholder([-1, 3], "x");
        var y = F.Tanh(x * 2.0) + 1.0;
        using var s = new Session(g, new SessionOptions { UseCompileCache = false });
        NDArray Batch(int n) => NDArray.From(Enumerable.Range(0, 3 * n).Select(i => i / 10f).ToArray(), n, 3);
        for (int n = 1; n <= 12; n++) s.Run(y, new Dictionary<Tensor, NDArray> { [x] = Batch(n) });
        var exe = s.Compiled([y], new Dictionary<Tensor, NDArray> { [x] = Batch(1) });
        Assert.Equal(RecentBatches.DefaultEntries, exe.BatchSizesKept);
        // A size whose buffers were released is made again, and computes the same.
        var again = s.Run(y, new Dictionary<Tensor, NDArray> { [x] = Batch(2) }).As<float>().ToArray();
        Assert.Equal(Enumerable.Range(0, 6).Select(i => MathF.Tanh(i / 10f * 2) + 1), again);
    }

    [Fact]
    public void RecentBatchesKeepsTheMostRecentWithinItsBoundsAndReleasesTheRest()
    {
        var released = new List<int>();
        var recent = new RecentBatches<int[]>(a => a.Length * 4L, a => released.Add(a.Length), maxEntries: 3, maxBytes: 90);
        foreach (int n in new[] { 1, 2, 3 }) recent.Get(n, k => new int[k]);
        recent.Get(1, _ => throw new InvalidOperationException("size 1 is kept")); // now the most recent
        recent.Get(4, k => new int[k]);
        Assert.Equal([2], released); // the least recently used
        recent.Get(20, k => new int[k]); // 80 bytes: over the byte bound with the others
        Assert.Equal([2, 3, 1, 4], released);
        Assert.Equal(1, recent.Count);
        recent.Get(40, k => new int[k]); // alone over the bound, and kept while in use
        Assert.Equal([2, 3, 1, 4, 20], released);
        Assert.Equal(1, recent.Count);
        Assert.Equal(160, recent.Bytes);
    }

    /// <summary>
    /// What a user in another culture does (compile, dump the text form, save and load a graph and
    /// a checkpoint) gives what it gives in the invariant culture: de-DE writes decimals with commas,
    /// tr-TR upper-cases i to İ.
    /// </summary>
    [Theory]
    [InlineData("de-DE"), InlineData("tr-TR")]
    public void CompilingPrintingAndSavingDoNotDependOnTheCulture(string culture)
    {
        string folder = Directory.CreateTempSubdirectory("graphnet-culture-").FullName;
        var saved = CultureInfo.CurrentCulture;
        (float[] Compiled, float[] Interpreted, string Text, string Loaded, float[] Restored) Workflow()
        {
            var g = new Graph(seed: 3);
            var x = g.Placeholder([-1, 4], "x");
            var w = g.Variable("fc.weight", [4, 2], Initializer.Uniform(-0.5, 0.5));
            var y = F.Tanh(F.MatMul(x * 1.25, w) + 0.75) * g.Constant(NDArray.From(new[] { 0.5f, 1.5f }, 2));
            var feeds = Feed(x, 0.1f, -0.2f, 0.3f, 1.5f);
            using var compiled = new Session(g, new SessionOptions { UseCompileCache = false });
            using var interpreter = new Session(g, new SessionOptions { Backend = Backend.Interpreter });
            var graphFile = Path.Combine(folder, "graph.json");
            g.Save(graphFile);
            var checkpoint = Path.Combine(folder, "w.safetensors");
            Saver.Save(compiled, checkpoint);
            using var again = new Session(g, new SessionOptions { UseCompileCache = false });
            Saver.Restore(again, checkpoint);
            return (compiled.Run(y, feeds).As<float>().ToArray(), interpreter.Run(y, feeds).As<float>().ToArray(),
                GraphText.Format(g), GraphText.Format(Graph.Load(graphFile)), again.GetVariable("fc.weight").As<float>().ToArray());
        }
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
            var expected = Workflow();
            CultureInfo.CurrentCulture = new CultureInfo(culture);
            var got = Workflow();
            Assert.Equal(expected.Compiled, got.Compiled);
            Assert.Equal(expected.Interpreted, got.Interpreted);
            Assert.Equal(expected.Text, got.Text);
            Assert.Equal(expected.Text, got.Loaded);
            Assert.Equal(expected.Restored, got.Restored);
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
            Directory.Delete(folder, true);
        }
    }
}
