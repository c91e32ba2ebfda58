namespace GraphNet.Compiler.Tests.Stages;

public class GenerateTests
{
    [Fact]
    public void TheCodeIsOneFilePerKernelAndSaysWhichMemberIsWhichKernel()
    {
        var (g, x, y) = StageTestKit.Dense();
        var c = StageTestKit.RunThrough("generate", g, [y], [x]);
        var code = c.Report.Code;
        Assert.Equal(c.Kernels.Count + 1, code.Files.Count);
        Assert.Null(code.Files[0].Kernel);
        foreach (var k in c.Kernels)
        {
            var file = code.FileOf(k.Index)!;
            var method = Backends.CSharp.CSharpEmitter.Method(k);
            Assert.Contains($"private static void {method}(StepContext c)", file.Text);
            Assert.Equal(k.Index, code.KernelOf(method));
            Assert.StartsWith("// kernel ", file.Text);
        }
        Assert.Null(code.KernelOf("Run"));
    }

    [Fact]
    public void TheCacheKeyFollowsTheGraphAndTheOptionsNotTheRun()
    {
        string Key(Func<Tensor, Tensor> f)
        {
            var g = new Graph(seed: 1);
            var x = g.Placeholder([-1, 4], "x");
            return StageTestKit.RunThrough("generate", g, [f(x)], [x]).Report.CacheKey;
        }
        Assert.Equal(Key(F.Exp), Key(F.Exp));
        Assert.NotEqual(Key(F.Exp), Key(F.Tanh));
        Assert.Matches("^[0-9a-f]{32}$", Key(F.Exp));
    }
}
