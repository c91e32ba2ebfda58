namespace GraphNet.Compiler.Tests.Stages;

public class LowerTests
{
    [Fact]
    public void EachGroupBecomesAKernelInOrderWithItsNodesAndLines()
    {
        var (g, x, y) = StageTestKit.Dense();
        var c = StageTestKit.RunThrough("lower", g, [y], [x]);
        Assert.Equal(StageTestKit.Norm("""
            kernel 0 k0_matmul_add_relu (library over [N,3])
              %3 = matmul(%0, %1) {transA=false, transB=true} : f32[N,3]  # matmul @StageTestKit.cs:30
              %4 = add(%3, %2) : f32[N,3]  # add @StageTestKit.cs:30
              %5 = relu(%4) : f32[N,3]  # relu @StageTestKit.cs:30
            kernel 1 k1_reduce_sum (reduce over [N])
              %6 = reduce_sum(%5) {axes=[1], keepdims=false} : f32[N]  # reduce_sum @StageTestKit.cs:30
            """), StageTestKit.Norm(KernelText.Format(c.Kernels)));
        Assert.Same(c.Kernels[0].Outputs[^1], c.Kernels[1].Anchor!.Inputs[0]); // the relu is stored for the reduction
    }

    [Fact]
    public void TheVerifierCatchesAKernelScheduledBeforeTheOneItReads()
    {
        var (g, x, y) = StageTestKit.Dense();
        var c = StageTestKit.RunThrough("lower", g, [y], [x]);
        var (first, second) = (c.Kernels[0], c.Kernels[1]);
        // A planted bug: the reduction runs before the matmul that makes its input.
        c.Kernels = [Reindexed(second, 0), Reindexed(first, 1)];
        var e = Assert.Throws<InvalidOperationException>(() => StageTestKit.Named("lower").Verify(c));
        Assert.Contains("after stage 'lower'", e.Message);
        Assert.Contains("before kernel 1 makes it", e.Message);
    }

    private static Kernel Reindexed(Kernel k, int index) => new()
    {
        Index = index, Name = k.Name, Anchor = k.Anchor, Prologue = k.Prologue, Epilogue = k.Epilogue,
        Domain = k.Domain, Leaves = k.Leaves, Outputs = k.Outputs,
    };
}
