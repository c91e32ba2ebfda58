using System.Runtime.Intrinsics;
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
    [InlineData(1, 128, 9216, false, true)]
    [InlineData(3, 37, 70, false, false)]
    [InlineData(4, 300, 17, false, true)]
    [InlineData(2, 1000, 600, false, false)]
    public void GemmMatchesReference(int m, int n, int k, bool ta, bool tb)
    {
        var rng = new Random(m * 31 + n);
        var a = RefEval.RandomFloat(rng, ta ? [k, m] : [m, k]);
        var b = RefEval.RandomFloat(rng, tb ? [n, k] : [k, n]);
        var op = new MatMulOp(ta, tb);
        var expected = op.Evaluate(Ctx, [a, b])[0];
        RefEval.AssertClose(expected, MatMul.Forward(a, b, op), 1e-4, 1e-4);
    }

    [Theory]
    [InlineData(32, 256, 64, false, true)]   // an LSTM step's h·W_hhᵀ on half a batch of 64
    [InlineData(32, 64, 256, false, false)]  // and its gradient's dgates·W_hh
    [InlineData(9, 1100, 300, false, false)] // more than one K and N block, edge tiles
    [InlineData(20, 70, 300, true, true)]
    public void APackedRightOperandGivesTheSameBitsAsPackingEachTime(int m, int n, int k, bool ta, bool tb)
    {
        var rng = new Random(m + n + k);
        var a = RefEval.RandomFloat(rng, ta ? [k, m] : [m, k]);
        var b = RefEval.RandomFloat(rng, tb ? [n, k] : [k, n]);
        var op = new MatMulOp(ta, tb);
        var expected = MatMul.Forward(a, b, op);
        var packed = new Gemm.PackedB();
        MatMul.PackRight(b, op, packed);
        var y = NDArray.Full(DType.Float32, expected.Shape, float.NaN); // every element written, none read
        MatMul.ForwardPacked(a, packed, op, y);
        Assert.Equal(expected.As<float>(), y.As<float>());
        RefEval.AssertClose(op.Evaluate(Ctx, [a, b])[0], y, 1e-4, 1e-4);
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
        // A shared right operand is one GEMM over all the batch's rows (an LSTM's input projection), transposed or not;
        // with a transposed left operand it stays one product per batch entry.
        var sharedT = RefEval.RandomFloat(rng, [6, 7]);
        var op3 = new MatMulOp(false, true);
        RefEval.AssertClose(op3.Evaluate(Ctx, [a, sharedT])[0], MatMul.Forward(a, sharedT, op3), 1e-4, 1e-5);
        var op4 = new MatMulOp(true, false);
        var sharedK = RefEval.RandomFloat(rng, [5, 6]);
        RefEval.AssertClose(op4.Evaluate(Ctx, [a, sharedK])[0], MatMul.Forward(a, sharedK, op4), 1e-4, 1e-5);
        // Large enough that the batch entries are spread over cores.
        var big = RefEval.RandomFloat(rng, [16, 40, 48]);
        var bigB = RefEval.RandomFloat(rng, [16, 48, 56]);
        RefEval.AssertClose(op2.Evaluate(Ctx, [big, bigB])[0], MatMul.Forward(big, bigB, op2), 1e-4, 1e-4);
    }

    public static TheoryData<int, int, int, int, int, int, int> ConvCases() => new()
    {
        // n, c, h, cout, k, stride, padding  (dilation and groups vary below)
        { 2, 1, 28, 8, 3, 1, 0 },
        { 3, 32, 12, 16, 3, 1, 0 },
        { 2, 4, 9, 6, 3, 2, 1 },
        { 1, 3, 7, 5, 1, 1, 0 },
        { 4, 6, 10, 4, 5, 2, 2 },
        // DCGAN's small planes, where samples share a GEMM: 8x8 outputs in groups of 4 (6 = 4 + 2),
        // 4x4 outputs, and the discriminator's last 4x4 filter over a 4x4 input (1x1 out).
        { 6, 3, 16, 4, 4, 2, 1 },
        { 5, 16, 8, 8, 4, 2, 1 },
        { 3, 8, 4, 1, 4, 1, 0 },
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
    [InlineData(PoolKind.Max, 2, 2, 0, 12)]
    [InlineData(PoolKind.Max, 2, 2, 0, 13)]
    [InlineData(PoolKind.Max, 2, 2, 0, 40)]   // 20 windows a row: one whole vector of 16 and a masked tail
    [InlineData(PoolKind.Max, 2, 2, 0, 35)]
    [InlineData(PoolKind.Max, 2, 2, 0, 40, true)] // float64: two vectors of 8 and a masked tail
    [InlineData(PoolKind.Max, 2, 2, 0, 14, true)] // 7 windows a row: each a masked vector
    [InlineData(PoolKind.Max, 2, 2, 0, 21, true)]
    [InlineData(PoolKind.Max, 3, 3, 0, 12)]
    [InlineData(PoolKind.Min, 3, 2, 1, 12)]
    [InlineData(PoolKind.Avg, 3, 1, 1, 12)]
    [InlineData(PoolKind.Avg, 3, 1, 1, 12, true)]
    public void PoolingMatchesReference(PoolKind kind, int k, int s, int pad, int size, bool float64 = false)
    {
        var rng = new Random(5);
        var p = new PoolParams(kind, [k, k], [s, s], [pad, pad]);
        NDArray Random(int[] shape) => float64 ? RefEval.RandomDouble(rng, shape) : RefEval.RandomFloat(rng, shape);
        var x = Random([4, 16, size, size]);
        var y = float64 ? PoolReference.Forward<double>(x, p) : PoolReference.Forward<float>(x, p);
        RefEval.AssertClose(y, Pool.Forward(x, p), 1e-6, 1e-6);
        var dy = Random(y.Shape);
        var dx = float64 ? PoolReference.Backward<double>(x, dy, p) : PoolReference.Backward<float>(x, dy, p);
        RefEval.AssertClose(dx, Pool.Backward(x, dy, p), 1e-5, 1e-6);
        // Into a reused buffer holding old values, as compiled steps pass.
        var used = NDArray.Full(x.DType, x.Shape, 3);
        RefEval.AssertClose(dx, Pool.Backward(x, dy, p, used), 1e-5, 1e-6);
    }

    [Theory]
    [InlineData(24, false)]
    [InlineData(38, false)]
    [InlineData(24, true)]
    [InlineData(38, true)]
    public void MaxPoolGradientGoesToTheFirstOfTiedMaxima(int size, bool float64)
    {
        // Pooling after ReLU sees many equal zeros: the gradient must go to the first of them, as the reference.
        var rng = new Random(9);
        var p = new PoolParams(PoolKind.Max, [2, 2], [2, 2], [0, 0]);
        var x = NDArray.From(Enumerable.Range(0, 2 * 8 * size * size).Select(_ => (double)Math.Max(0, rng.Next(-2, 3))).ToArray(),
            2, 8, size, size);
        var dy = RefEval.RandomDouble(rng, [2, 8, size / 2, size / 2]);
        if (!float64) (x, dy) = (NDArray.From(x.ToFloatArray(), x.Shape), NDArray.From(dy.ToFloatArray(), dy.Shape));
        var y = float64 ? PoolReference.Forward<double>(x, p) : PoolReference.Forward<float>(x, p);
        RefEval.AssertClose(y, Pool.Forward(x, p), 0, 0);
        var dx = float64 ? PoolReference.Backward<double>(x, dy, p) : PoolReference.Backward<float>(x, dy, p);
        RefEval.AssertClose(dx, Pool.Backward(x, dy, p), 0, 0);
    }

    [Theory]
    [InlineData(false, -1), InlineData(true, -1), InlineData(true, 1)]
    public void SoftmaxMatchesReference(bool log, int axis)
    {
        var x = RefEval.RandomFloat(new Random(9), [64, 10, 3], -5, 5);
        var op = new SoftmaxOp(axis, log);
        RefEval.AssertClose(op.Evaluate(Ctx, [x])[0], Softmax.Forward(x, axis, log), 1e-5, 1e-6);
    }

    [Theory]
    [InlineData(false, 16), InlineData(false, 37), InlineData(true, 37), InlineData(true, 64)]
    public void SoftmaxOfLongRowsRunsInVectorsWithMasksAndNaNs(bool log, int n)
    {
        // Attention's rows: masked keys at −∞, a row with a NaN and a row masked whole (both NaN, as PyTorch's).
        var x = RefEval.RandomFloat(new Random(n), [6, n], -5, 5);
        var v = x.As<float>();
        for (int k = n / 2; k < n; k++) v[1 * n + k] = float.NegativeInfinity;
        v[2 * n + 3] = float.NaN;
        for (int k = 0; k < n; k++) v[3 * n + k] = float.NegativeInfinity;
        var y = Softmax.Forward(x, -1, log).As<float>();
        var want = new SoftmaxOp(-1, log).Evaluate(Ctx, [x])[0].As<float>();
        for (int i = 0; i < y.Length; i++)
        {
            if (float.IsNaN(want[i]) || i / n is 2 or 3) { Assert.True(float.IsNaN(y[i]), $"element {i}: {y[i]}, want NaN"); continue; }
            if (float.IsNegativeInfinity(want[i])) { Assert.Equal(want[i], y[i]); continue; }
            Assert.True(Math.Abs(want[i] - y[i]) <= 1e-6 + 1e-5 * Math.Abs(want[i]), $"element {i}: {y[i]}, want {want[i]}");
        }
    }
}

public class VMathTests
{
    [Fact]
    public void VectorDropoutDrawsExactlyTheScalarMasksAtBothWidths()
    {
        foreach (ulong key in new[] { 1UL, 0xDEADBEEFUL, CounterRng.Key(7, 123) })
            for (long start = 0; start < 4096; start += 16)
            {
                var f512 = Simd512<float>.DropoutScale(key, start, 0.3f, 2f);
                var d512 = Simd512<double>.DropoutScale(key, start, 0.3f, 2.0);
                var f256 = Simd256<float>.DropoutScale(key, start, 0.3f, 2f);
                var d256 = Simd256<double>.DropoutScale(key, start, 0.3f, 2.0);
                for (int i = 0; i < 16; i++) Assert.Equal(VMath.DropoutScale(key, start + i, 0.3f, 2f), f512[i]);
                for (int i = 0; i < 8; i++) Assert.Equal(VMath.DropoutScale(key, start + i, 0.3f, 2.0), d512[i]);
                for (int i = 0; i < 8; i++) Assert.Equal(VMath.DropoutScale(key, start + i, 0.3f, 2f), f256[i]);
                for (int i = 0; i < 4; i++) Assert.Equal(VMath.DropoutScale(key, start + i, 0.3f, 2.0), d256[i]);
            }
    }

    [Theory]
    [InlineData(5, 7, 3, 4)]
    [InlineData(64, 28, 28, 512)]
    public void BatchSummedMatMulIsOneGemmOverAllRows(int batch, int rows, int m, int n)
    {
        // Σ_b a_bᵀ·b_b: the gradient of a weight shared over a batch (LSTM input weights).
        var rng = new Random(batch + n);
        var a = RefEval.RandomFloat(rng, [batch, rows, m]);
        var b = RefEval.RandomFloat(rng, [batch, rows, n]);
        var op = new MatMulOp(true, false, SumBatch: true);
        var expected = op.Evaluate(new EvalContext(), [a, b])[0];
        Assert.Equal([m, n], expected.Shape);
        RefEval.AssertClose(expected, MatMul.Forward(a, b, op), 1e-4, 1e-4);
    }
}

/// <summary>The float lane algorithms (exp, log, tanh) at both vector widths, whatever the machine runs natively.</summary>
public class VExpTests
{
    public static TheoryData<int> Widths => new() { 256, 512 };

    /// <summary>f over the inputs at a width, 16 lanes at a time (two 256-bit vectors or one 512-bit).</summary>
    private static float[] Apply(int width, string f, float[] a)
    {
        var y = new float[a.Length];
        for (int o = 0; o < a.Length; o += 16)
            if (width == 512)
            {
                var v = Vector512.Create(a.AsSpan(o, 16));
                (f == "exp" ? VExp.Exp(v) : f == "log" ? VExp.Log(v) : VExp.Tanh(v)).CopyTo(y.AsSpan(o, 16));
            }
            else
                for (int h = 0; h < 16; h += 8)
                {
                    var v = Vector256.Create(a.AsSpan(o + h, 8));
                    (f == "exp" ? VExp.Exp(v) : f == "log" ? VExp.Log(v) : VExp.Tanh(v)).CopyTo(y.AsSpan(o + h, 8));
                }
        return y;
    }

    private static void Check(int width, string f, Func<double, double> exact, IEnumerable<float> inputs, double rtol)
    {
        var a = inputs.ToList();
        while (a.Count % 16 != 0) a.Add(1f);
        var y = Apply(width, f, a.ToArray());
        for (int i = 0; i < a.Count; i++)
        {
            double e = exact(a[i]);
            // Denormal results are held to the spacing of denormals, not flushed to zero.
            bool ok = double.IsNaN(e) ? float.IsNaN(y[i])
                : double.IsInfinity(e) || Math.Abs(e) > float.MaxValue ? float.IsInfinity(y[i]) && Math.Sign(y[i]) == Math.Sign(e)
                : Math.Abs(y[i] - e) <= rtol * Math.Abs(e) + 5e-45;
            if (e == 0) ok &= float.IsNegative(y[i]) == double.IsNegative(e); // the sign of zero too
            Assert.True(ok, $"{f}({a[i]:R}) = {y[i]:R} at width {width}, exact {e:R}");
        }
    }

    [Theory, MemberData(nameof(Widths))]
    public void ExpIsWithinTwoUlpAndHandlesTheEdges(int width)
    {
        var xs = Enumerable.Range(-4000, 8001).Select(i => i * 0.0219f)
            .Concat([0f, -0f, 1e-8f, 1e-40f, 88.7f, 88.8f, -87.3f, -88f, -95f, -100f, -103.9f, -104f, -200f,
                float.PositiveInfinity, float.NegativeInfinity, float.NaN]);
        Check(width, "exp", Math.Exp, xs, 3e-7);
    }

    [Theory, MemberData(nameof(Widths))]
    public void LogIsWithinTwoUlpAndHandlesTheEdges(int width)
    {
        var xs = Enumerable.Range(1, 8000).Select(i => i * 1.37e-3f).Concat(Enumerable.Range(-37, 75).Select(e => MathF.Pow(10, e)))
            .Concat([1.17549435e-38f, 1e-39f, 1e-42f, float.Epsilon, 0.70710677f, 0.7071068f, 1f, float.MaxValue, 0f, -0f, -1f,
                float.PositiveInfinity, float.NaN]);
        Check(width, "log", Math.Log, xs, 3e-7);
    }

    [Theory, MemberData(nameof(Widths))]
    public void TanhIsWithinFourUlpAndKeepsTheSignOfZero(int width)
    {
        // Relative accuracy matters near the switch from the series to the exp form too: x - tanh(x) at
        // x = 0.08 cancels 500-fold, and a tanh good only to 2e-6 (the former cutoff at 1/16) left 1e-3 of it.
        var xs = new List<float> { 0f, -0f, 1e-30f, -1e-7f, 0.0624f, 0.0625f, -0.0626f, 0.0776f, 0.5f, 0.5499f, 0.55f,
            -0.5501f, -1f, 3f, 9f, -20f, 50f, float.PositiveInfinity, float.NegativeInfinity, float.NaN };
        for (int i = -2000; i <= 2000; i++) xs.Add(i * 0.005f);
        for (int i = 1; i <= 2000; i++) xs.Add(i * 3e-4f);
        Check(width, "tanh", Math.Tanh, xs, 4 * 6e-8);
    }
}

public class ShapingKernelTests
{
    private static readonly EvalContext Ctx = new();

    [Fact]
    public void SlicePadAndConcatWriteIntoUsedBuffersLikeTheReference()
    {
        var rng = new Random(4);
        var x = RefEval.RandomFloat(rng, [3, 4, 5]);
        var y = RefEval.RandomFloat(rng, [3, 2, 5]);
        // Output buffers full of garbage, as a reused buffer of a compiled step is.
        NDArray Garbage(int[] shape) { var g = NDArray.Zeros(DType.Float32, shape); Array.Fill(g.As<float>(), 7.5f); return g; }
        foreach (var op in new[] { new PadOp([0, 1, 2, 0, 1, 3]), new PadOp([1, 0, 0, 0, 0, 2], -1.5) })
        {
            var expected = op.Evaluate(Ctx, [x])[0];
            RefEval.AssertClose(expected, Shaping.Pad(x, op, Garbage(expected.Shape)), 0, 0);
            RefEval.AssertClose(expected, Shaping.Pad(x, op), 0, 0);
        }
        var slice = new SliceOp(1, 1, 2);
        var s = slice.Evaluate(Ctx, [x])[0];
        RefEval.AssertClose(s, Shaping.Slice(x, slice, Garbage(s.Shape)), 0, 0);
        var concat = new ConcatOp(1);
        var c = concat.Evaluate(Ctx, [x, y])[0];
        RefEval.AssertClose(c, Shaping.Concat([x, y], concat, Garbage(c.Shape)), 0, 0);
    }

    [Fact]
    public void TransposeMovesEveryElementWhereItsIndexSays()
    {
        var rng = new Random(5);
        int[] shape = [2, 3, 4, 5];
        var x = RefEval.RandomFloat(rng, shape);
        var ints = NDArray.From(Enumerable.Range(0, 120).Select(i => (long)i).ToArray(), shape);
        // Every permutation of four axes: runs of 5, 20 and 60 elements when trailing axes stay, single elements otherwise.
        foreach (var perm in Permutations([0, 1, 2, 3]))
        {
            var op = new TransposeOp(perm);
            foreach (var input in new[] { x, ints })
            {
                var y = Shaping.Transpose(input, op, NDArray.Zeros(input.DType, perm.Select(p => shape[p]).ToArray()));
                Assert.Equal(perm.Select(p => shape[p]).ToArray(), y.Shape);
                var idx = new int[4];
                for (int o = 0; o < y.Size; o++)
                {
                    // Output index (a, b, c, d) reads input index with axis perm[k] at the k-th coordinate.
                    int rest = o;
                    for (int k = 3; k >= 0; k--) { idx[perm[k]] = rest % shape[perm[k]]; rest /= shape[perm[k]]; }
                    int from = ((idx[0] * 3 + idx[1]) * 4 + idx[2]) * 5 + idx[3];
                    Assert.Equal(input.GetDouble(from), y.GetDouble(o));
                }
                RefEval.AssertClose(op.Evaluate(Ctx, [input])[0], y, 0, 0);
            }
        }
    }

    private static IEnumerable<int[]> Permutations(int[] items) => items.Length <= 1 ? [items]
        : items.SelectMany(first => Permutations(items.Where(i => i != first).ToArray()).Select(rest => (int[])[first, .. rest]));
}
