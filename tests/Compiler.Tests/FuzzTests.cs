using GraphNet.Bench;
using GraphNet.Runtime.Kernels;

namespace GraphNet.Compiler.Tests;

/// <summary>
/// Differential fuzzing in CI: 300 random graphs with fixed seeds, judged against the float64 reference
/// evaluation; the generator's reach over every op; planted kernel bugs caught; every saved regression case.
/// </summary>
public class FuzzTests
{
    public static TheoryData<int> Batches => new(Enumerable.Range(0, GraphNet.Tests.TestCulture.Batches(10)));
    private const int CiGraphs = 300;

    [Theory, MemberData(nameof(Batches))]
    public void ThirtyRandomGraphsMatchTheReference(int batch)
    {
        var failures = new List<string>();
        for (int seed = 1 + batch * 30; seed <= 30 + batch * 30; seed++)
            if (Fuzz.Compare(seed) is { } problem) failures.Add($"seed {seed}: {problem}");
        Assert.True(failures.Count == 0, string.Join("\n", failures) +
            "\n(reproduce and shrink: dotnet run -c Release --project bench -- fuzz --count 1 --seed SEED)");
    }

    /// <summary>
    /// The CI graphs hold every op type GraphNet defines (found by reflection, so a new op fails this test until
    /// the generator makes it), every pointwise function, reduction, comparison and pool kind, and the
    /// convolution and pooling geometries that have their own code paths.
    /// </summary>
    [Fact]
    public void TheGraphsReachEveryOpAndGeometry()
    {
        var seen = new HashSet<string>();
        int nonFinite = 0;
        for (int seed = 1; seed <= CiGraphs; seed++)
        {
            var c = Fuzz.Build(seed);
            if (c.Feeds.Values.Any(v => v.DType.IsFloat() && Enumerable.Range(0, v.Size).Any(i => !double.IsFinite(v.GetDouble(i)))))
                nonFinite++;
            foreach (var n in AllNodes(c.Graph)) seen.UnionWith(Features(n));
        }
        var wanted = typeof(Op).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(Op)) && !t.IsAbstract).Select(t => t.Name)
            .Concat(Pointwise.Unary.Select(f => f.Name)).Concat(Pointwise.Binary.Select(f => f.Name))
            .Concat(Enum.GetNames<ReduceKind>().Select(k => $"reduce {k}")).Concat(Enum.GetNames<CompareKind>().Select(k => $"compare {k}"))
            .Concat(Enum.GetNames<PoolKind>().Select(k => $"pool {k}"))
            .Concat(["conv stride", "conv padding", "conv dilation", "conv groups", "conv rectangular kernel",
                "conv_transpose stride", "conv_transpose dilation", "conv_transpose groups", "conv_transpose output_padding",
                "pool stride", "pool padding", "pool window not 2x2",
                "matmul transA", "matmul transB", "matmul sum_batch", "matmul batched", "scan reverse", "scan recompute"]);
        var missing = wanted.Where(w => !seen.Contains(w)).ToList();
        Assert.True(missing.Count == 0, $"the first {CiGraphs} fuzz graphs never make: {string.Join(", ", missing)}");
        Assert.True(nonFinite >= CiGraphs / Fuzz.NonFiniteShare, $"{nonFinite} of {CiGraphs} graphs have NaN or infinite inputs");
    }

    private static IEnumerable<Node> AllNodes(Graph g) =>
        g.Nodes.SelectMany(n => n.Op is ScanOp s ? AllNodes(s.Body.Graph).Prepend(n) : [n]);

    private static IEnumerable<string> Features(Node n)
    {
        yield return n.Op.GetType().Name;
        switch (n.Op)
        {
            case UnaryOp u: yield return u.Fn.Name; break;
            case BinaryOp b: yield return b.Fn.Name; break;
            case ReduceOp r: yield return $"reduce {r.Kind}"; break;
            case CompareOp c: yield return $"compare {c.Kind}"; break;
            case MatMulOp m:
                if (n.Inputs[0].Rank > 2) yield return "matmul batched";
                if (m.TransA) yield return "matmul transA";
                if (m.TransB) yield return "matmul transB";
                if (m.SumBatch) yield return "matmul sum_batch";
                break;
            case Conv2dOp conv:
                foreach (var f in ConvFeatures("conv", conv.P)) yield return f;
                if (n.Inputs[1].Shape[2] != n.Inputs[1].Shape[3]) yield return "conv rectangular kernel";
                break;
            case ConvTranspose2dOp t:
                foreach (var f in ConvFeatures("conv_transpose", t.P)) yield return f;
                if (t.OutputPadding.Any(p => p > 0)) yield return "conv_transpose output_padding";
                break;
            case Pool2dOp p:
                yield return $"pool {p.P.Kind}";
                if (p.P.Stride.Any(s => s > 1) && !p.P.Stride.SequenceEqual(p.P.Kernel)) yield return "pool stride";
                if (p.P.Padding.Any(s => s > 0)) yield return "pool padding";
                if (!p.P.Kernel.SequenceEqual([2, 2])) yield return "pool window not 2x2";
                break;
            case ScanOp s:
                if (s.Reverse) yield return "scan reverse";
                if (s.Recompute) yield return "scan recompute";
                break;
        }
    }

    private static IEnumerable<string> ConvFeatures(string name, ConvParams p)
    {
        if (p.Stride.Any(s => s > 1)) yield return $"{name} stride";
        if (p.Padding.Any(s => s > 0)) yield return $"{name} padding";
        if (p.Dilation.Any(s => s > 1)) yield return $"{name} dilation";
        if (p.Groups > 1) yield return $"{name} groups";
    }

    /// <summary>
    /// Kernels wrong in the ways kernels go wrong, planted in the library that every backend calls, are each
    /// caught by the CI graphs.
    /// </summary>
    [Fact]
    public void PlantedKernelBugsAreCaught()
    {
        var missed = FuzzMutants.All.Where(m => FuzzMutants.FirstCatch(m.Op, m.Kind, 1, CiGraphs) is null).ToList();
        Assert.True(missed.Count == 0, $"planted bugs the fuzzer missed: {string.Join(", ", missed.Select(m => $"{m.Op.Name} {m.Kind}"))}");
        Assert.Null(Fuzz.Compare(1)); // and nothing stays planted
    }

    [Fact]
    public void TheGraphsReachSlicesReadInPlaceAndSlicesCopied()
    {
        int views = 0, copies = 0;
        for (int seed = 1; seed <= 60; seed++)
        {
            var c = Fuzz.Build(seed);
            using var s = new Session(c.Graph, new SessionOptions { UseCompileCache = false });
            var exe = s.Compiled(c.Fetches, c.Feeds);
            views += exe.Report.Fusion.SliceViews.Count;
            copies += exe.Kernels.Count(k => k.Anchor?.Op is SliceOp);
        }
        Assert.True(views >= 10 && copies >= 5, $"{views} slices read in place, {copies} copied in 60 graphs");
    }

    [Fact]
    public void SavedRegressionCasesStayFixed()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "FuzzRegressions");
        var files = Directory.Exists(dir) ? Directory.GetFiles(dir, "seed-*.txt") : [];
        Assert.True(files.Length > 0, $"no saved cases in {dir}: the test project copies FuzzRegressions/*.txt there");
        foreach (var file in files)
        {
            var (seed, steps, backend) = Fuzz.ReadCase(file);
            Assert.True(Fuzz.Compare(seed, steps, backend) is null, $"{Path.GetFileName(file)} fails again: {Fuzz.Compare(seed, steps, backend)}");
        }
    }
}
