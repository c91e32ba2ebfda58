namespace GraphNet.Compiler.Tests.Stages;

public class FuseTests
{
    [Fact]
    public void TheMatmulTakesItsBiasAndReluAndTheSumStandsApart()
    {
        var (g, x, y) = StageTestKit.Dense();
        var c = StageTestKit.RunThrough("fuse", g, [y], [x]);
        Assert.Equal(StageTestKit.Norm("""
            %0 placeholder 'x' -> no kernel: input: exists before the step
            %1 variable 'w' -> no kernel: input: exists before the step
            %2 variable 'b' -> no kernel: input: exists before the step
            %3 matmul 'matmul' -> kernel 0: library kernel (matmul)
            %4 add 'add' -> kernel 0: fused as epilogue of matmul 0
            %5 relu 'relu' -> kernel 0: fused as epilogue of matmul 0
            %6 reduce_sum 'reduce_sum' -> kernel 1: reduction kernel (its producer's result is also used elsewhere, or it has an anchor)
            """), StageTestKit.Norm(c.Fusion.Report()));
    }

    [Fact]
    public void TheVerifierCatchesANodeLeftOutOfEveryGroup()
    {
        var (g, x, y) = StageTestKit.Dense();
        var c = StageTestKit.RunThrough("fuse", g, [y], [x]);
        var epilogue = c.Fusion.Groups[0].Pointwise;
        var relu = epilogue[^1];
        epilogue.Remove(relu); // a planted bug: the relu runs nowhere
        c.Fusion.GroupOf.Remove(relu);
        var e = Assert.Throws<InvalidOperationException>(() => StageTestKit.Named("fuse").Verify(c));
        Assert.Contains("after stage 'fuse'", e.Message);
        Assert.Contains("relu", e.Message);
    }
}
