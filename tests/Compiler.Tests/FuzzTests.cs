using GraphNet.Bench;

namespace GraphNet.Compiler.Tests;

/// <summary>Differential fuzzing in CI: 300 random graphs with fixed seeds, and every saved regression case.</summary>
public class FuzzTests
{
    public static TheoryData<int> Batches => new(Enumerable.Range(0, 10));

    [Theory, MemberData(nameof(Batches))]
    public void ThirtyRandomGraphsMatchTheInterpreter(int batch)
    {
        var failures = new List<string>();
        for (int seed = 1 + batch * 30; seed <= 30 + batch * 30; seed++)
            if (Fuzz.Compare(seed) is { } problem) failures.Add($"seed {seed}: {problem}");
        Assert.True(failures.Count == 0, string.Join("\n", failures) + "\n(reproduce and shrink: dotnet run -c Release --project bench -- fuzz --count 1 --seed SEED)");
    }

    [Fact]
    public void TheGraphsReachSlicesReadInPlaceAndSlicesCopied()
    {
        int views = 0, copies = 0;
        for (int seed = 1; seed <= 20; seed++)
        {
            var c = Fuzz.Build(seed);
            using var s = new Session(c.Graph, new SessionOptions { UseCompileCache = false });
            var exe = s.Compiled(c.Fetches, c.Feeds);
            views += exe.Report.Fusion.SliceViews.Count;
            copies += exe.Kernels.Count(k => k.Anchor?.Op is SliceOp);
        }
        Assert.True(views >= 20 && copies >= 5, $"{views} slices read in place, {copies} copied in 20 graphs");
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
