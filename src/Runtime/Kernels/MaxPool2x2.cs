using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GraphNet.Runtime.Kernels;

/// <summary>
/// The book's MaxPool2d(2) (2×2 windows, stride 2, no padding) 16 windows at a time: a window
/// row pair is two input rows read as even and odd columns. The backward pass picks the same
/// element as the scalar code and PyTorch (the first maximum in row-major order wins, except
/// that a NaN wins over anything before it, so the last NaN takes the gradient) without a branch
/// per window, which random data mispredicts half the time.
/// </summary>
internal static unsafe class MaxPool2x2
{
    public static bool Vectorized => Simd.Shuffles;

    public static void Forward(float[] x, float[] y, int planes, int h, int w)
    {
        int ho = h / 2, wo = w / 2;
        Pool.ForPlanes(planes, h * w, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int plane) =>
        {
            fixed (float* px = x) fixed (float* py = y) ForwardPlane(px + (long)plane * h * w, py + (long)plane * ho * wo, h, w);
        });
    }

    public static void Backward(float[] x, float[] dy, float[] dx, int planes, int h, int w)
    {
        int ho = h / 2, wo = w / 2;
        Pool.ForPlanes(planes, h * w, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int plane) =>
        {
            fixed (float* px = x) fixed (float* pd = dy) fixed (float* pg = dx)
                BackwardPlane(px + (long)plane * h * w, pd + (long)plane * ho * wo, pg + (long)plane * h * w, h, w);
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardPlane(float* x, float* y, int h, int w)
    {
        int ho = h / 2, wo = w / 2;
        for (int oy = 0; oy < ho; oy++)
        {
            float* r0 = x + 2L * oy * w, r1 = r0 + w, dst = y + (long)oy * wo;
            for (int ox = 0; ox < wo; ox += 16)
            {
                int n = Math.Min(16, wo - ox);
                int load = InPlane(oy, ox, h, w) ? 16 : n;
                var (a, b) = Pairs(r0 + 2 * ox, load);
                var (c, d) = Pairs(r1 + 2 * ox, load);
                var m = Vector512.Max(Vector512.Max(a, b), Vector512.Max(c, d));
                // A short last chunk may spill into the next row, which is written after it; only
                // the plane's last row needs a masked store (slow on this machine's Zen 4 cores).
                if (n == 16 || (oy < ho - 1 && ox + 16 <= 2 * wo)) Vector512.Store(m, dst + ox);
                else LaneMask.Store(dst + ox, m, n);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardPlane(float* x, float* dy, float* dx, int h, int w)
    {
        int ho = h / 2, wo = w / 2;
        for (int oy = 0; oy < ho; oy++)
        {
            float* r0 = x + 2L * oy * w, r1 = r0 + w, g0 = dx + 2L * oy * w, g1 = g0 + w;
            for (int ox = 0; ox < wo; ox += 16)
            {
                int n = Math.Min(16, wo - ox);
                int load = InPlane(oy, ox, h, w) ? 16 : n;
                var (a, b) = Pairs(r0 + 2 * ox, load);
                var (c, d) = Pairs(r1 + 2 * ox, load);
                float* g = dy + (long)oy * wo + ox;
                var grad = n == 16 || (long)oy * wo + ox + 16 <= (long)ho * wo ? Vector512.Load(g) : LaneMask.Load(g, n);
                // Running maximum in window order a, b, c, d; a later element wins if strictly greater, or NaN.
                var gtB = Vector512.GreaterThan(b, a) | IsNaN(b); var best = Vector512.ConditionalSelect(gtB, b, a);
                var gtC = Vector512.GreaterThan(c, best) | IsNaN(c); best = Vector512.ConditionalSelect(gtC, c, best);
                var gtD = Vector512.GreaterThan(d, best) | IsNaN(d);
                var winD = gtD;
                var winC = Vector512.AndNot(gtC, gtD);
                var winB = Vector512.AndNot(Vector512.AndNot(gtB, gtC), gtD);
                var winA = ~(gtB | gtC | gtD);
                var z = Vector512<float>.Zero;
                // With one chunk a row of at least 8 windows, row g0's spill lands in g1 and g1's in
                // the next window row, both written after it (with more chunks, g0's spill would
                // clobber g1's first chunk; with fewer windows it would reach two rows on).
                bool spill = wo is >= 8 and <= 16;
                StorePairs(g0 + 2 * ox, Vector512.ConditionalSelect(winA, grad, z), Vector512.ConditionalSelect(winB, grad, z), spill ? 16 : n);
                StorePairs(g1 + 2 * ox, Vector512.ConditionalSelect(winC, grad, z), Vector512.ConditionalSelect(winD, grad, z), spill && oy < ho - 1 ? 16 : n);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> IsNaN(Vector512<float> v) => ~Vector512.Equals(v, v);

    /// <summary>
    /// Whether whole 32-float loads from both window rows stay inside the plane: a short last
    /// chunk then reads into the next rows (lanes it discards) instead of using masked loads.
    /// </summary>
    private static bool InPlane(int oy, int ox, int h, int w) => (2L * oy + 1) * w + 2 * ox + 32 <= (long)h * w;

    /// <summary>Even and odd columns of 2·n floats from p: the left and right elements of n windows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float> Even, Vector512<float> Odd) Pairs(float* p, int n)
    {
        Vector512<float> lo, hi;
        if (n == 16) { lo = Vector512.Load(p); hi = Vector512.Load(p + 16); }
        else
        {
            lo = LaneMask.Load(p, Math.Min(2 * n, 16));
            hi = 2 * n > 16 ? LaneMask.Load(p + 16, 2 * n - 16) : Vector512<float>.Zero;
        }
        return Kernels.Pairs.Split(lo, hi);
    }

    /// <summary>Interleaves even and odd columns back into 2·n floats at p.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePairs(float* p, Vector512<float> even, Vector512<float> odd, int n)
    {
        var (lo, hi) = Kernels.Pairs.Join(even, odd);
        if (n == 16) { Vector512.Store(lo, p); Vector512.Store(hi, p + 16); return; }
        LaneMask.Store(p, lo, Math.Min(2 * n, 16));
        if (2 * n > 16) LaneMask.Store(p + 16, hi, 2 * n - 16);
    }
}
