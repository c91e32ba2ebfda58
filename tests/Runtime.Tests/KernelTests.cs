using GraphNet.Runtime.Kernels;

namespace GraphNet.Runtime.Tests;

/// <summary>The runtime's library kernels against the ops' reference evaluations.</summary>
public class KernelTests
{
    private static readonly EvalContext Ctx = new();

    [Theory]
    [InlineData(1, 1, 1, false, false)]
    [InlineData(7, 5, 3, false, false)]
    [InlineData(8, 32, 256, false, false)]
    [InlineData(33, 65, 300, false, true)]
    [InlineData(130, 40, 17, true, false)]
    [InlineData(19, 530, 70, true, true)]
    [InlineData(256, 256, 256, false, false)]
    [InlineData(32, 9216, 128, false, false)]
    [InlineData(128, 300, 32, true, false)]
    public void GemmMatchesReference(int m, int n, int k, bool ta, bool tb)
    {
        var rng = new Random(m * 31 + n);
        var a = RefEval.RandomFloat(rng, ta ? [k, m] : [m, k]);
        var b = RefEval.RandomFloat(rng, tb ? [n, k] : [k, n]);
        var op = new MatMulOp(ta, tb);
        var expected = op.Evaluate(Ctx, [a, b])[0];
        RefEval.AssertClose(expected, MatMul.Forward(a, b, op), 1e-4, 1e-4);
    }

    [Fact]
    public void GemmHonoursAlphaBetaAndLeadingDimensions()
    {
        // C (inside a wider buffer, ldc=10) = 2·A·B + 0.5·C
        int m = 9, n = 7, k = 5, ldc = 10;
        var rng = new Random(1);
        var a = RefEval.RandomFloat(rng, [m, k]).As<float>();
        var b = RefEval.RandomFloat(rng, [k, n]).As<float>();
        var c = RefEval.RandomFloat(rng, [m, ldc]).As<float>();
        var expected = (float[])c.Clone();
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
                expected[i * ldc + j] = (float)(2 * s + 0.5 * c[i * ldc + j]);
            }
        Gemm.Sgemm(false, false, m, n, k, 2f, a, k, b, n, 0.5f, c, ldc);
        for (int i = 0; i < c.Length; i++) Assert.Equal(expected[i], c[i], 4);
    }

    [Fact]
    public void BatchedMatMulMatchesReference()
    {
        var rng = new Random(3);
        var a = RefEval.RandomFloat(rng, [3, 5, 7]);
        var b = RefEval.RandomFloat(rng, [3, 4, 7]);
        var op = new MatMulOp(false, true);
        RefEval.AssertClose(op.Evaluate(Ctx, [a, b])[0], MatMul.Forward(a, b, op), 1e-4, 1e-5);
        var shared = RefEval.RandomFloat(rng, [7, 6]);
        var op2 = new MatMulOp();
        RefEval.AssertClose(op2.Evaluate(Ctx, [a, shared])[0], MatMul.Forward(a, shared, op2), 1e-4, 1e-5);
    }

    public static TheoryData<int, int, int, int, int, int, int> ConvCases() => new()
    {
        // n, c, h, cout, k, stride, padding  (dilation and groups vary below)
        { 2, 1, 28, 8, 3, 1, 0 },
        { 3, 32, 12, 16, 3, 1, 0 },
        { 2, 4, 9, 6, 3, 2, 1 },
        { 1, 3, 7, 5, 1, 1, 0 },
        { 4, 6, 10, 4, 5, 2, 2 },
    };

    [Theory, MemberData(nameof(ConvCases))]
    public void ConvolutionAndItsGradientsMatchReference(int n, int c, int h, int cout, int k, int stride, int padding)
    {
        foreach (var (dilation, groups) in new[] { (1, 1), (2, 2) })
        {
            if (c % groups != 0 || cout % groups != 0 || h + 2 * padding < dilation * (k - 1) + 1) continue;
            var rng = new Random(n + c + h);
            var p = new ConvParams([stride, stride], [padding, padding], [dilation, dilation], groups);
            var x = RefEval.RandomFloat(rng, [n, c, h, h]);
            var w = RefEval.RandomFloat(rng, [cout, c / groups, k, k]);
            var y = ConvReference.Forward<float>(x, w, p);
            RefEval.AssertClose(y, Conv.Forward(x, w, p), 1e-4, 1e-4, "forward");

            var dy = RefEval.RandomFloat(rng, y.Shape);
            var outPad = new[] { h - p.TransposedSize(0, y.Shape[2], k, 0), h - p.TransposedSize(1, y.Shape[3], k, 0) };
            RefEval.AssertClose(ConvReference.Transposed<float>(dy, w, p, outPad), Conv.Transposed(dy, w, p, outPad), 1e-4, 1e-4, "data gradient");
            RefEval.AssertClose(ConvReference.FilterGrad<float>(x, dy, p, k, k), Conv.FilterGrad(x, dy, p, k, k), 1e-4, 1e-3, "filter gradient");
        }
    }

    [Theory]
    [InlineData(PoolKind.Max, 2, 2, 0)]
    [InlineData(PoolKind.Max, 3, 3, 0)]
    [InlineData(PoolKind.Min, 3, 2, 1)]
    [InlineData(PoolKind.Avg, 3, 1, 1)]
    public void PoolingMatchesReference(PoolKind kind, int k, int s, int pad)
    {
        var rng = new Random(5);
        var p = new PoolParams(kind, [k, k], [s, s], [pad, pad]);
        var x = RefEval.RandomFloat(rng, [4, 16, 12, 12]);
        var y = PoolReference.Forward<float>(x, p);
        RefEval.AssertClose(y, Pool.Forward(x, p), 1e-6, 1e-6);
        var dy = RefEval.RandomFloat(rng, y.Shape);
        RefEval.AssertClose(PoolReference.Backward<float>(x, dy, p), Pool.Backward(x, dy, p), 1e-5, 1e-6);
    }

    [Theory]
    [InlineData(false, -1), InlineData(true, -1), InlineData(true, 1)]
    public void SoftmaxMatchesReference(bool log, int axis)
    {
        var x = RefEval.RandomFloat(new Random(9), [64, 10, 3], -5, 5);
        var op = new SoftmaxOp(axis, log);
        RefEval.AssertClose(op.Evaluate(Ctx, [x])[0], Softmax.Forward(x, axis, log), 1e-5, 1e-6);
    }
}

public class VMathTests
{
    [Fact]
    public void VectorDropoutDrawsExactlyTheScalarMasks()
    {
        foreach (ulong key in new[] { 1UL, 0xDEADBEEFUL, CounterRng.Key(7, 123) })
            for (long start = 0; start < 4096; start += 16)
            {
                var f = GraphNet.Runtime.Kernels.VMath.DropoutScaleV(key, start, 0.3f, 2f);
                var d = GraphNet.Runtime.Kernels.VMath.DropoutScaleV(key, start, 0.3f, 2.0);
                for (int i = 0; i < 16; i++) Assert.Equal(GraphNet.Runtime.Kernels.VMath.DropoutScale(key, start + i, 0.3f, 2f), f[i]);
                for (int i = 0; i < 8; i++) Assert.Equal(GraphNet.Runtime.Kernels.VMath.DropoutScale(key, start + i, 0.3f, 2.0), d[i]);
            }
    }
}
