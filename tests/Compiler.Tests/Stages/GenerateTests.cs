namespace GraphNet.Compiler.Tests.Stages;

public class GenerateTests
{
    [Fact]
    public void TheCodeIsOneFilePerDistinctKernelAndSaysWhichMemberIsWhichKernel()
    {
        var (g, x, y) = StageTestKit.Dense();
        var c = StageTestKit.RunThrough("generate", g, [y], [x]);
        var code = c.Report.Code;
        Assert.Empty(code.Files[0].Kernels);
        // Every kernel's code is in exactly one file.
        Assert.Equal(c.Kernels.Select(k => k.Index), code.Files.SelectMany(f => f.Kernels).Order());
        foreach (var k in c.Kernels)
        {
            var file = code.FileOf(k.Index)!;
            var method = file.Name[..^3];
            Assert.Contains($"private static void {method}(StepContext c, int kernel, ReadOnlySpan<int> args)", file.Text);
            Assert.Contains($"&{method}", code.Files[0].Text);
            Assert.StartsWith("// kernels ", file.Text);
        }
        Assert.Equal(0, code.KernelOf(Backends.CSharp.CSharpEmitter.Method(c.Kernels[0])));
        Assert.Null(code.KernelOf("Run"));
    }

    [Fact]
    public void KernelsThatDifferOnlyInTheirBuffersShareOneMethodAndStillComputeTheirOwnValues()
    {
        Graph Model(out Tensor x, out Tensor y)
        {
            var g = new Graph(seed: 1);
            x = g.Placeholder([-1, 8], "x");
            var h = x;
            for (int i = 0; i < 4; i++)
                h = F.Tanh(F.MatMul(h, g.Variable($"w{i}", [8, 8], Initializer.Uniform(-1, 1))) * 0.5 + F.Slice(x, 1, i, 1));
            y = h;
            return g;
        }
        var g1 = Model(out var x1, out var y1);
        var c = StageTestKit.RunThrough("generate", g1, [y1], [x1]);
        int templates = c.Report.Code.Files.Count - 1;
        Assert.True(templates < c.Kernels.Count, $"{templates} methods for {c.Kernels.Count} kernels");

        var feed = new float[3 * 8];
        for (int i = 0; i < feed.Length; i++) feed[i] = MathF.Sin(i);
        var value = new NDArray(DType.Float32, [3, 8], feed);
        var g2 = Model(out var x2, out var y2);
        using var compiled = new Session(g1, new SessionOptions { UseCompileCache = false });
        using var reference = new Session(g2, new SessionOptions { Backend = Backend.Interpreter });
        var a = compiled.Run(y1, new Dictionary<Tensor, NDArray> { [x1] = value }).As<float>();
        var b = reference.Run(y2, new Dictionary<Tensor, NDArray> { [x2] = value }).As<float>();
        for (int i = 0; i < a.Length; i++) Assert.Equal(b[i], a[i], 5);
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
