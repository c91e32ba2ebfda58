namespace GraphNet.Compiler.Tests;

public class CompileCacheTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("graphnet-cache-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    private (Graph, Tensor, Tensor) Model()
    {
        var g = new Graph();
        var x = g.Placeholder([-1, 8], "x");
        var w = g.Variable("w", [8, 3], Initializer.Constant(0.25));
        return (g, x, F.Sum(F.Tanh(F.MatMul(x, w)), [1]));
    }

    private (NDArray Result, CompiledExecutable Exe) RunOnce()
    {
        var (g, x, y) = Model();
        using var s = new Session(g, new SessionOptions { CacheDirectory = dir });
        var feeds = new Dictionary<Tensor, NDArray> { [x] = NDArray.From(Enumerable.Range(0, 16).Select(i => i / 16f).ToArray(), 2, 8) };
        var r = s.Run(y, feeds);
        return (r, s.Compiled([y], feeds));
    }

    [Fact]
    public void ASecondSessionLoadsTheCompiledAssemblyFromDisk()
    {
        var (first, exe1) = RunOnce();
        Assert.Equal("no entry", exe1.Report.Cache);
        var (second, exe2) = RunOnce();
        Assert.Equal("hit", exe2.Report.Cache);
        Assert.True(exe1.Report.Built);
        Assert.False(exe2.Report.Built); // a hit skips code generation and Roslyn
        Assert.Equal(first.As<float>(), second.As<float>());
        Assert.Single(Directory.GetFiles(dir, "*.dll"));
    }

    [Theory]
    [InlineData("garbage"), InlineData("truncated"), InlineData("empty")]
    public void CorruptEntriesAreDetectedAndRebuiltNeverLoaded(string damage)
    {
        var (good, _) = RunOnce();
        var file = Directory.GetFiles(dir, "*.dll").Single();
        var bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, damage switch
        {
            "garbage" => Enumerable.Range(0, 4096).Select(i => (byte)(i * 31)).ToArray(),
            "truncated" => bytes[..(bytes.Length / 2)],
            _ => [],
        });
        var (again, exe) = RunOnce();
        Assert.Contains("corrupt", exe.Report.Cache);
        Assert.Equal(good.As<float>(), again.As<float>());
        Assert.Null(CompileCache.Validate(File.ReadAllBytes(file), exe.Report.CacheKey, Compilation.Version)); // rebuilt entry is sound
    }

    [Theory]
    [InlineData("*.dll"), InlineData("*.plan")]
    public void AnEntryWithOneByteChangedIsAMissNotLoaded(string pattern)
    {
        // A changed byte can leave a well-formed assembly (or plan) that loads and computes
        // something else; the SHA-256 that ends each entry catches it.
        var (good, _) = RunOnce();
        var file = Directory.GetFiles(dir, pattern).Single();
        var bytes = File.ReadAllBytes(file);
        bytes[bytes.Length / 3] ^= 0x01;
        File.WriteAllBytes(file, bytes);
        var (again, exe) = RunOnce();
        Assert.False(exe.Report.Restored);
        if (pattern == "*.dll") Assert.Contains("content hash", exe.Report.Cache);
        Assert.Equal(good.As<float>(), again.As<float>());
        var (third, restored) = RunOnce(); // written again, whole
        Assert.True(restored.Report.Restored);
        Assert.Equal(good.As<float>(), third.As<float>());
    }

    [Fact]
    public void StaleOrForeignEntriesAreMisses()
    {
        var (_, exe) = RunOnce();
        var bytes = File.ReadAllBytes(Directory.GetFiles(dir, "*.dll").Single());
        Assert.Null(CompileCache.Validate(bytes, exe.Report.CacheKey, Compilation.Version));
        Assert.Contains("stale", CompileCache.Validate(bytes, exe.Report.CacheKey, "an-older-compiler"));
        Assert.Contains("another key", CompileCache.Validate(bytes, "0123456789abcdef", Compilation.Version));
    }
}
