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

    [Fact]
    public void AChainOfThousandsOfKernelsIsOrderedOnASmallStack()
    {
        // An unrolled sequence is a long chain of kernels; ordering them must not recurse per kernel.
        var g = new Graph(seed: 1);
        var x = g.Placeholder([-1, 4], "x");
        var w = g.Variable("w", [4, 4], Initializer.Uniform(-1, 1));
        // The last kernel also computes an early node (fused into its epilogue), so it comes
        // first among the kernels by first node and every other kernel is below it.
        var early = F.Tanh(x);
        var h = x;
        for (int i = 0; i < 20000; i++) h = F.Tanh(F.MatMul(h, w));
        var y = h + early;
        Compilation? c = null;
        var thread = new Thread(() => c = StageTestKit.RunThrough("lower", g, [y], [x]), maxStackSize: 256 << 10);
        thread.Start();
        thread.Join();
        Assert.Equal(20000, c!.Kernels.Count);
        Assert.Contains(c.Kernels[^1].Nodes, n => n.Name == early.Name); // the compiler works on a copy of the graph
        for (int k = 1; k < c.Kernels.Count; k++) Assert.Same(c.Kernels[k - 1].Outputs[^1], c.Kernels[k].Anchor!.Inputs[0]);
    }

    private static Kernel Reindexed(Kernel k, int index) => new()
    {
        Index = index, Name = k.Name, Anchor = k.Anchor, Prologue = k.Prologue, Epilogue = k.Epilogue,
        Domain = k.Domain, Leaves = k.Leaves, Outputs = k.Outputs,
    };
}
