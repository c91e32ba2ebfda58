namespace GraphNet.Compiler.Tests.Stages;

public class BuildTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("graphnet-build-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    [Fact]
    public void TheAssemblyCarriesItsKeyAndVersionAndIsStoredOnce()
    {
        var (g, x, y) = StageTestKit.Dense();
        var cache = new CompileCache(dir);
        var c = StageTestKit.RunThrough("build", g, [y], [x], cache);
        Assert.True(c.Report.Built);
        Assert.Null(CompileCache.Validate(c.Image, c.Report.CacheKey, Compilation.Version));
        Assert.Single(Directory.GetFiles(dir, "*.dll"));
        // The same graph again: generation and Roslyn are skipped, the bytes are the cache's.
        var (g2, x2, y2) = StageTestKit.Dense();
        var again = StageTestKit.RunThrough("build", g2, [y2], [x2], cache);
        Assert.False(again.Report.Built);
        Assert.Equal("hit", again.Report.Cache);
        Assert.Equal(c.Image, again.Image);
    }

    [Fact]
    public void CodeThatDoesNotCompileNamesItsFileAndKeepsTheSource()
    {
        const string source = "namespace GraphNet.Generated; class Broken { int F() => \"x\"; }";
        var bad = new GeneratedCode("Broken", [new SourceFile("K0_Broken.cs", source, [0])], new Dictionary<string, int>());
        var e = Assert.Throws<InvalidOperationException>(() => Backends.CSharp.RoslynCompiler.Compile(bad));
        Assert.Contains("K0_Broken.cs(1,", e.Message);
        Assert.Contains("the generated C# does not compile", e.Message);
    }
}
