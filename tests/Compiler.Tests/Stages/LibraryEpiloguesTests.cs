namespace GraphNet.Compiler.Tests.Stages;

public class LibraryEpiloguesTests
{
    private static Compilation Conv(bool readBiasSumTwice)
    {
        var g = new Graph(seed: 1);
        var x = g.Placeholder([-1, 16, 10, 10], "x");
        var conv = new Nn.Conv2d(g, "conv", 16, 16, 3);
        var pre = conv.Forward(x);
        var y = F.Relu(pre);
        var fetch = readBiasSumTwice ? F.Sum(y) + F.Sum(pre) : F.Sum(y);
        return StageTestKit.RunThrough("library_epilogues", g, [fetch], [x]);
    }

    [Fact]
    public void AWinogradConvolutionTakesItsBiasAndRelu()
    {
        var c = Conv(readBiasSumTwice: false);
        var kernel = c.Kernels.Single(k => k.Anchor?.Op is Conv2dOp);
        // No Winograd on this machine: nothing to absorb.
        if (!Runtime.Kernels.Winograd.Applies(16, 16, 3, 3, ((Conv2dOp)kernel.Anchor!.Op).P)) return;
        Assert.NotNull(kernel.Absorbed);
        Assert.True(kernel.Absorbed!.Relu);
        Assert.NotNull(kernel.Absorbed.Bias);
        Assert.DoesNotContain(kernel.Epilogue, n => n.Op is UnaryOp or BinaryOp);
        Assert.Contains("the call applies add and relu", KernelText.Format(c.Kernels));
    }

    [Fact]
    public void AValueReadElsewhereStaysInTheLoop()
    {
        // The biased value is read by a second sum, so only the add could go, and it must be stored: nothing is absorbed past it.
        var c = Conv(readBiasSumTwice: true);
        var kernel = c.Kernels.Single(k => k.Anchor?.Op is Conv2dOp);
        Assert.False(kernel.Absorbed?.Relu ?? false);
        Assert.Contains(kernel.Epilogue, n => n.Op is UnaryOp { Fn: var f } && f == Pointwise.Relu);
    }
}
