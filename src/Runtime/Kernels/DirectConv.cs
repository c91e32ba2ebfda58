using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GraphNet.Runtime.Kernels;

/// <summary>
/// Stride-1 convolutions of images with few channels (the book's conv1: one channel, 3×3), and
/// their filter gradient, computed directly with 16 output columns per vector. As a GEMM such a
/// layer has K = C·kh·kw = 9: every microkernel call would do nine steps and then store its
/// whole tile, and im2col would copy the image nine times first.
/// </summary>
public static unsafe class DirectConv
{
    private const int Lanes = 16;

    /// <summary>Stride 1, no dilation or groups, at most 4 input channels and 7×7 filters.</summary>
    public static bool Applies(int inChannels, int kh, int kw, ConvParams p) =>
        inChannels <= 4 && kh <= 7 && kw <= 7 && p.Groups == 1 && p.Stride[0] == 1 && p.Stride[1] == 1
        && p.Dilation[0] == 1 && p.Dilation[1] == 1 && Simd.Shuffles;

    private readonly record struct Layout(int C, int H, int W, int Co, int KH, int KW, int PadY, int PadX, int HO, int WO)
    {
        /// <summary>Padded image width: the padding on both sides, and room for the last vector's loads.</summary>
        public int WP => (WO + Lanes - 1) / Lanes * Lanes + KW - 1;
        public int HP => HO + KH - 1;
    }

    [ThreadStatic] private static float[]? padded;
    [ThreadStatic] private static double[]? gradSums;
    [ThreadStatic] private static float[]? gradRows;

    /// <summary>y[N,Co,HO,WO] = conv2d(x[N,C,H,W], w[Co,C,kh,kw]).</summary>
    public static void Forward(float[] x, float[] w, float[] y, int n, int c, int h, int wd, int co, int kh, int kw, int padY, int padX)
    {
        var l = new Layout(c, h, wd, co, kh, kw, padY, padX, h + 2 * padY - kh + 1, wd + 2 * padX - kw + 1);
        int workers = (long)n * co * l.HO * l.WO * c * kh * kw < Gemm.ParallelThreshold ? 1 : Environment.ProcessorCount;
        Work.Dynamic(n, workers, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (_, b) =>
        {
            var pad = Pad(l, x, b);
            fixed (float* xp = pad) fixed (float* wp = w) fixed (float* yp = y)
                ForwardSample(l, xp, wp, yp + (long)b * co * l.HO * l.WO);
        });
    }

    /// <summary>dw[Co,C,kh,kw] = Σ over samples and positions of dy[n,co,oy,ox]·x[n,c,oy−pY+ky,ox−pX+kx].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FilterGrad(float[] x, float[] dy, float[] dw, int n, int c, int h, int wd, int co, int kh, int kw, int padY, int padX, int ho, int wo)
    {
        var l = new Layout(c, h, wd, co, kh, kw, padY, padX, ho, wo);
        int size = co * c * kh * kw;
        int workers = (long)n * co * ho * wo * c * kh * kw < Gemm.ParallelThreshold ? 1 : Math.Min(n, Environment.ProcessorCount);
        int chunks = Work.ReductionChunks(n, workers);
        // Per chunk of samples, in double, added in chunk order: the same bits on every run.
        var sums = gradSums is { } gs && gs.Length >= chunks * size ? gs : gradSums = new double[chunks * size];
        Array.Clear(sums, 0, chunks * size);
        Work.Chunks(n, chunks, workers, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (chunk, lo, hi) =>
        {
            var rows = gradRows is { } r && r.Length >= ho * (wo + Lanes) ? r : gradRows = new float[ho * (wo + Lanes)];
            for (int b = lo; b < hi; b++)
            {
                var pad = Pad(l, x, b);
                fixed (float* xp = pad) fixed (float* dp = dy) fixed (double* sp = sums) fixed (float* rp = rows)
                    FilterGradSample(l, xp, dp + (long)b * co * ho * wo, sp + (long)chunk * size, rp);
            }
        });
        for (int i = 0; i < size; i++)
        {
            double s = 0;
            for (int t = 0; t < chunks; t++) s += sums[t * size + i];
            dw[i] = (float)s;
        }
    }

    /// <summary>Sample b's channels, zero-padded to HP×WP each, in this thread's buffer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float[] Pad(Layout l, float[] x, int b)
    {
        int plane = l.HP * l.WP, size = l.C * plane;
        var p = padded is { } a && a.Length >= size ? a : padded = new float[size];
        Array.Clear(p, 0, size);
        for (int ci = 0; ci < l.C; ci++)
            for (int iy = 0; iy < l.H; iy++)
            {
                int py = iy + l.PadY;
                if (py >= l.HP) break;
                int count = Math.Min(l.W, l.WP - l.PadX);
                Array.Copy(x, ((long)b * l.C + ci) * l.H * l.W + (long)iy * l.W, p, ci * plane + py * l.WP + l.PadX, count);
            }
        return p;
    }

    /// <summary>Four output channels at a time, 16 columns per vector: each input vector loaded serves four filters.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardSample(Layout l, float* x, float* w, float* y)
    {
        int plane = l.HP * l.WP, taps = l.C * l.KH * l.KW, outPlane = l.HO * l.WO;
        for (int o = 0; o < l.Co; o += 4)
        {
            int group = Math.Min(4, l.Co - o);
            float* w0 = w + (long)o * taps, w1 = w0 + (group > 1 ? taps : 0), w2 = w0 + (group > 2 ? 2 * taps : 0), w3 = w0 + (group > 3 ? 3 * taps : 0);
            for (int oy = 0; oy < l.HO; oy++)
                for (int ox = 0; ox < l.WO; ox += Lanes)
                {
                    Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                    int k = 0;
                    for (int ci = 0; ci < l.C; ci++)
                        for (int ky = 0; ky < l.KH; ky++)
                        {
                            float* row = x + ci * plane + (oy + ky) * l.WP + ox;
                            for (int kx = 0; kx < l.KW; kx++, k++)
                            {
                                var v = Vector512.Load(row + kx);
                                a0 = Vector512.FusedMultiplyAdd(v, Vector512.Create(w0[k]), a0);
                                a1 = Vector512.FusedMultiplyAdd(v, Vector512.Create(w1[k]), a1);
                                a2 = Vector512.FusedMultiplyAdd(v, Vector512.Create(w2[k]), a2);
                                a3 = Vector512.FusedMultiplyAdd(v, Vector512.Create(w3[k]), a3);
                            }
                        }
                    float* dst = y + (long)o * outPlane + oy * l.WO + ox;
                    int count = Math.Min(Lanes, l.WO - ox);
                    Store(dst, a0, count);
                    if (group > 1) Store(dst + outPlane, a1, count);
                    if (group > 2) Store(dst + 2 * outPlane, a2, count);
                    if (group > 3) Store(dst + 3 * outPlane, a3, count);
                }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* dst, Vector512<float> v, int count)
    {
        if (count == Lanes) Vector512.Store(v, dst);
        else LaneMask.Store(dst, v, count);
    }

    /// <summary>
    /// For each output channel and filter tap, the sum over positions of gradient × shifted
    /// input, 16 columns per vector, in four independent accumulators (one FMA chain would wait
    /// on its own latency). The channel's gradient is first copied to rows of whole vectors with
    /// zero tails, so the inner loop needs no masks; it stays in L1 across the taps.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FilterGradSample(Layout l, float* x, float* dy, double* sums, float* rows)
    {
        int plane = l.HP * l.WP, taps = l.C * l.KH * l.KW, chunks = (l.WO + Lanes - 1) / Lanes, stride = chunks * Lanes;
        int last = stride - Lanes;
        // The last vector of a row reads input columns past the output's width (the next row, or another channel's);
        // dy is zero there but zero times a NaN or an infinity is NaN, so those inputs are masked to zero.
        var tail = LaneMask.First(l.WO - last);
        new Span<float>(rows, l.HO * stride).Clear();
        for (int o = 0; o < l.Co; o++)
        {
            float* d = dy + (long)o * l.HO * l.WO;
            for (int oy = 0; oy < l.HO; oy++)
                new ReadOnlySpan<float>(d + oy * l.WO, l.WO).CopyTo(new Span<float>(rows + oy * stride, l.WO));
            int k = 0;
            for (int ci = 0; ci < l.C; ci++)
                for (int ky = 0; ky < l.KH; ky++)
                    for (int kx = 0; kx < l.KW; kx++, k++)
                    {
                        float* shifted = x + ci * plane + ky * l.WP + kx;
                        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                        int oy = 0;
                        for (; oy + 1 < l.HO; oy += 2)
                        {
                            float* g0 = rows + oy * stride, g1 = g0 + stride, x0 = shifted + oy * l.WP, x1 = x0 + l.WP;
                            for (int ox = 0; ox < last; ox += Lanes)
                            {
                                a0 = Vector512.FusedMultiplyAdd(Vector512.Load(g0 + ox), Vector512.Load(x0 + ox), a0);
                                a1 = Vector512.FusedMultiplyAdd(Vector512.Load(g1 + ox), Vector512.Load(x1 + ox), a1);
                            }
                            a0 = Vector512.FusedMultiplyAdd(Vector512.Load(g0 + last), Vector512.Load(x0 + last) & tail, a0);
                            a1 = Vector512.FusedMultiplyAdd(Vector512.Load(g1 + last), Vector512.Load(x1 + last) & tail, a1);
                            (a0, a1, a2, a3) = (a2, a3, a0, a1); // alternate pairs: four chains in flight
                        }
                        for (; oy < l.HO; oy++)
                        {
                            float* g0 = rows + oy * stride, x0 = shifted + oy * l.WP;
                            for (int ox = 0; ox < last; ox += Lanes)
                                a0 = Vector512.FusedMultiplyAdd(Vector512.Load(g0 + ox), Vector512.Load(x0 + ox), a0);
                            a0 = Vector512.FusedMultiplyAdd(Vector512.Load(g0 + last), Vector512.Load(x0 + last) & tail, a0);
                        }
                        sums[(long)o * taps + k] += Vector512.Sum((a0 + a1) + (a2 + a3));
                    }
        }
    }
}
