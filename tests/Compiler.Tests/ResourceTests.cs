using GraphNet.Bench;

namespace GraphNet.Compiler.Tests;

/// <summary>Threads, memory, determinism and the cache bound. Runs alone: it measures the process's memory.</summary>
[Collection("memory")]
public class ResourceTests
{
    [Fact]
    public void InferenceFromEightThreadsAtOnceGivesCorrectResults()
    {
        var m = BenchModel.Mlp();
        using var s = new Session(m.Graph, new SessionOptions { UseCompileCache = false });
        var inputs = Enumerable.Range(0, 8).Select(i => m.Spec.Batch(4, seed: i).Inputs).ToArray();
        var expected = inputs.Select(x => s.Run(m.Output, new Dictionary<Tensor, NDArray> { [m.Input] = x }).As<float>()).ToArray();
        int wrong = 0;
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
        {
            var feeds = new Dictionary<Tensor, NDArray> { [m.Input] = inputs[t] };
            for (int i = 0; i < 1000; i++)
                if (!s.Run(m.Output, feeds).As<float>().SequenceEqual(expected[t])) Interlocked.Increment(ref wrong);
        });
        Assert.Equal(0, wrong);
    }

    [Fact]
    public void TenThousandRunsDoNotGrowManagedMemory()
    {
        var g = new Graph();
        var x = g.Placeholder([-1, 16], "x");
        var w = g.Variable("w", [16, 16], Initializer.Constant(0.01));
        var y = F.Sum(F.Tanh(F.MatMul(x, w)), [1]);
        using var s = new Session(g, new SessionOptions { UseCompileCache = false });
        var feeds = new Dictionary<Tensor, NDArray> { [x] = NDArray.Zeros(DType.Float32, 4, 16) };
        long After(int runs)
        {
            for (int i = 0; i < runs; i++) s.Run(y, feeds);
            GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
            return GC.GetTotalMemory(true);
        }
        After(1000);
        long before = After(1000);
        long after = After(10000);
        Assert.True(after - before < 1_000_000, $"managed memory grew by {after - before:N0} bytes over 10,000 runs");
    }

    [Theory]
    [InlineData("csharp"), InlineData("interpreter")]
    public void TheSameSeedGivesBitIdenticalTraining(string backend)
    {
        float[] Train()
        {
            var m = BenchModel.Cnn();
            using var s = new Session(m.Graph, new SessionOptions { Backend = Backend.Named(backend), UseCompileCache = false });
            var losses = Enumerable.Range(0, 3).Select(i => (float)s.Run([m.Loss, m.TrainStep], m.Batch(8, i))[0].Item());
            return [.. losses, .. s.GetVariable("conv2.weight").As<float>(), .. s.GetVariable("fc1.weight").As<float>()];
        }
        Assert.Equal(Train(), Train());
    }

    [Fact]
    public void TheCompileCacheHasASizeBoundAndEvictsTheLeastRecentlyUsed()
    {
        var dir = Directory.CreateTempSubdirectory("graphnet-evict-").FullName;
        try
        {
            var cache = new CompileCache(dir, maxBytes: 2500);
            cache.Store("a", new byte[1000]);
            File.SetLastWriteTimeUtc(Path.Combine(dir, "a.dll"), DateTime.UtcNow.AddMinutes(-3));
            cache.Store("b", new byte[1000]);
            File.SetLastWriteTimeUtc(Path.Combine(dir, "b.dll"), DateTime.UtcNow.AddMinutes(-2));
            cache.Store("c", new byte[1000]);
            Assert.False(File.Exists(Path.Combine(dir, "a.dll")));
            Assert.True(File.Exists(Path.Combine(dir, "b.dll")));
            Assert.True(File.Exists(Path.Combine(dir, "c.dll")));
        }
        finally { Directory.Delete(dir, true); }
    }
}
