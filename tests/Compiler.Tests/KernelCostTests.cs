using GraphNet.Bench;
using GraphNet.Nn;

namespace GraphNet.Compiler.Tests;

/// <summary>Each kernel's FLOPs and bytes, which the profiler and bench -- step judge against the machine.</summary>
public class KernelCostTests
{
    private static double Flops(Tensor t, int batch) => KernelCost.Flops(t.Node, batch);

    [Fact]
    public void MatMulsAndConvolutionsCountTwoFlopsPerMultiplyAdd()
    {
        var g = new Graph();
        var x = g.Placeholder([-1, 16], "x");
        Assert.Equal(2.0 * 4 * 16 * 8, Flops(F.MatMul(x, g.Placeholder([16, 8], "w")), 4));
        Assert.Equal(2.0 * 4 * 16 * 8, Flops(F.MatMul(x, g.Placeholder([8, 16], "wt"), transB: true), 4));
        var seq = g.Placeholder([-1, 3, 16], "seq");
        Assert.Equal(2.0 * 4 * 3 * 16 * 8, Flops(F.MatMul(seq, g.Placeholder([16, 8], "w2")), 4));
        // 2·N·Cout·Ho·Wo·(Cin/groups)·kh·kw: [N,2,7,7] by [4,2,3,3], stride 2, padding 1, is [N,4,4,4].
        var img = g.Placeholder([-1, 2, 7, 7], "img");
        var conv = F.Conv2d(img, g.Placeholder([4, 2, 3, 3], "k"), null, stride: 2, padding: 1);
        Assert.Equal("[N,4,4,4]", conv.Shape.ToString());
        Assert.Equal(2.0 * 5 * 4 * 4 * 4 * 2 * 3 * 3, Flops(conv, 5));
        var grouped = F.Conv2d(g.Placeholder([-1, 4, 5, 5], "img4"), g.Placeholder([6, 2, 3, 3], "kg"), null, 1, 0, 1, 2);
        Assert.Equal(2.0 * 1 * 6 * 3 * 3 * 2 * 3 * 3, Flops(grouped, 1));
    }

    [Fact]
    public void AConvolutionsTwoGradientsEachCostWhatItsForwardDoes()
    {
        // The data gradient (a transposed convolution) and the filter gradient each do the forward's multiply-adds.
        var g = new Graph();
        var x = g.Placeholder([-1, 3, 9, 9], "x");
        var w = g.Placeholder([5, 3, 3, 3], "w");
        var y = F.Conv2d(x, w, null, stride: 2, padding: 1);
        var grads = F.Gradients([F.Sum(F.Square(y))], [x, w]);
        double forward = Flops(y, 6);
        Assert.Equal(forward, Flops(grads[0]!, 6));
        Assert.Equal(forward, Flops(grads[1]!, 6));
    }

    [Fact]
    public void FusionNeitherLosesNorRepeatsWork()
    {
        // The compiled step's kernels hold every node of the optimized graph once: their FLOPs add up to the nodes'.
        var m = BenchModel.Cnn();
        using var s = new Session(m.Graph, new SessionOptions { UseCompileCache = false });
        var exe = s.Compiled([m.Loss, m.TrainStep], m.Batch(2));
        double nodes = exe.Unit.Graph.Nodes.Sum(n => KernelCost.Flops(n, 64));
        var step = KernelCost.Of(exe.Kernels, 64);
        Assert.Equal(nodes, step.Flops, 1e-6 * nodes);
        // Most of it is the convolutions and matmuls: three multiply-add passes each (forward, data and filter gradients).
        double dense = exe.Unit.Graph.Nodes.Where(n => n.Op is Conv2dOp or ConvTranspose2dOp or Conv2dFilterGradOp or MatMulOp)
            .Sum(n => KernelCost.Flops(n, 64));
        Assert.InRange(dense / step.Flops, 0.9, 1.0);
        Assert.True(step.Bytes > 64 * 28 * 28 * 4, "the step reads at least its images");
    }

    [Fact]
    public void AScanCostsItsBodyOncePerStep()
    {
        var g = new Graph(seed: 1);
        var x = g.Placeholder([-1, 7, 3], "x");
        var (seq, _) = new LSTM(g, "lstm", 3, 4, batchFirst: true).Forward(x);
        var scan = g.Nodes.Single(n => n.Op is ScanOp);
        var body = ((ScanOp)scan.Op).Body;
        double perStep = body.Schedule.Sum(n => KernelCost.Flops(n, 2));
        // The inputs' projection runs before the loop, for all steps at once; a step multiplies h by the recurrent weights.
        Assert.True(perStep >= 2.0 * 2 * 4 * 16, $"an LSTM step does at least its recurrent GEMM: {perStep}");
        Assert.Equal(7 * perStep, KernelCost.Flops(scan, 2));
        Assert.Equal("[N,7,4]", seq.Shape.ToString());
    }
}
