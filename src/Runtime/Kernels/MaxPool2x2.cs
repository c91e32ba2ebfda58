using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GraphNet.Runtime.Kernels;

/// <summary>
/// The book's MaxPool2d(2) (2×2 windows, stride 2, no padding) a vector of windows at a time
/// (16 in float32, 8 in float64): a window row pair is two input rows read as even and odd columns. The backward pass picks the same
/// element as the scalar code and PyTorch (the first maximum in row-major order wins, except
/// that a NaN wins over anything before it, so the last NaN takes the gradient) without a branch
/// per window, which random data mispredicts half the time.
/// </summary>
internal static unsafe class MaxPool2x2
{
    public static bool Vectorized => Simd.Shuffles;

    /// <summary>Windows per vector.</summary>
    private static int L<T>() => Vector512<T>.Count;

    public static void Forward<T>(T[] x, T[] y, int planes, int h, int w) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int ho = h / 2, wo = w / 2;
        Pool.ForPlanes(planes, h * w, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int plane) =>
        {
            fixed (T* px = x) fixed (T* py = y) ForwardPlane(px + (long)plane * h * w, py + (long)plane * ho * wo, h, w);
        });
    }

    public static void Backward<T>(T[] x, T[] dy, T[] dx, int planes, int h, int w) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int ho = h / 2, wo = w / 2;
        Pool.ForPlanes(planes, h * w, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int plane) =>
        {
            fixed (T* px = x) fixed (T* pd = dy) fixed (T* pg = dx)
                BackwardPlane(px + (long)plane * h * w, pd + (long)plane * ho * wo, pg + (long)plane * h * w, h, w);
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardPlane<T>(T* x, T* y, int h, int w) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int ho = h / 2, wo = w / 2, l = L<T>();
        for (int oy = 0; oy < ho; oy++)
        {
            T* r0 = x + 2L * oy * w, r1 = r0 + w, dst = y + (long)oy * wo;
            for (int ox = 0; ox < wo; ox += l)
            {
                int n = Math.Min(l, wo - ox);
                int load = InPlane(oy, ox, h, w, l) ? l : n;
                var (a, b) = Pairs(r0 + 2 * ox, load);
                var (c, d) = Pairs(r1 + 2 * ox, load);
                var m = Vector512.Max(Vector512.Max(a, b), Vector512.Max(c, d));
                // A short last chunk may spill into the next row, which is written after it; only
                // the plane's last row needs a masked store (slow on this machine's Zen 4 cores).
                if (n == l || (oy < ho - 1 && ox + l <= 2 * wo)) Vector512.Store(m, dst + ox);
                else Store(dst + ox, m, n);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardPlane<T>(T* x, T* dy, T* dx, int h, int w) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int ho = h / 2, wo = w / 2, l = L<T>();
        for (int oy = 0; oy < ho; oy++)
        {
            T* r0 = x + 2L * oy * w, r1 = r0 + w, g0 = dx + 2L * oy * w, g1 = g0 + w;
            for (int ox = 0; ox < wo; ox += l)
            {
                int n = Math.Min(l, wo - ox);
                int load = InPlane(oy, ox, h, w, l) ? l : n;
                var (a, b) = Pairs(r0 + 2 * ox, load);
                var (c, d) = Pairs(r1 + 2 * ox, load);
                T* g = dy + (long)oy * wo + ox;
                var grad = n == l || (long)oy * wo + ox + l <= (long)ho * wo ? Vector512.Load(g) : Load(g, n);
                // Running maximum in window order a, b, c, d; a later element wins if strictly greater, or NaN.
                var gtB = Vector512.GreaterThan(b, a) | IsNaN(b); var best = Vector512.ConditionalSelect(gtB, b, a);
                var gtC = Vector512.GreaterThan(c, best) | IsNaN(c); best = Vector512.ConditionalSelect(gtC, c, best);
                var gtD = Vector512.GreaterThan(d, best) | IsNaN(d);
                var winD = gtD;
                var winC = Vector512.AndNot(gtC, gtD);
                var winB = Vector512.AndNot(Vector512.AndNot(gtB, gtC), gtD);
                var winA = ~(gtB | gtC | gtD);
                var z = Vector512<T>.Zero;
                // With one chunk a row of at least l/2 windows, row g0's spill lands in g1 and g1's in
                // the next window row, both written after it (with more chunks, g0's spill would
                // clobber g1's first chunk; with fewer windows it would reach two rows on).
                bool spill = wo >= l / 2 && wo <= l;
                StorePairs(g0 + 2 * ox, Vector512.ConditionalSelect(winA, grad, z), Vector512.ConditionalSelect(winB, grad, z), spill ? l : n);
                StorePairs(g1 + 2 * ox, Vector512.ConditionalSelect(winC, grad, z), Vector512.ConditionalSelect(winD, grad, z),
                    spill && oy < ho - 1 ? l : n);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> IsNaN<T>(Vector512<T> v) => ~Vector512.Equals(v, v);

    /// <summary>
    /// Whether whole two-vector loads from both window rows stay inside the plane: a short last
    /// chunk then reads into the next rows (lanes it discards) instead of using masked loads.
    /// </summary>
    private static bool InPlane(int oy, int ox, int h, int w, int l) => (2L * oy + 1) * w + 2 * ox + 2 * l <= (long)h * w;

    /// <summary>Even and odd columns of 2·n elements from p: the left and right elements of n windows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<T> Even, Vector512<T> Odd) Pairs<T>(T* p, int n) where T : unmanaged
    {
        int l = L<T>();
        Vector512<T> lo, hi;
        if (n == l) { lo = Vector512.Load(p); hi = Vector512.Load(p + l); }
        else
        {
            lo = Load(p, Math.Min(2 * n, l));
            hi = 2 * n > l ? Load(p + l, 2 * n - l) : Vector512<T>.Zero;
        }
        if (typeof(T) == typeof(float))
        {
            var (e, o) = Kernels.Pairs.Split(lo.AsSingle(), hi.AsSingle());
            return (e.As<float, T>(), o.As<float, T>());
        }
        return (Avx512F.PermuteVar8x64x2(lo.AsDouble(), Evens8, hi.AsDouble()).As<double, T>(),
            Avx512F.PermuteVar8x64x2(lo.AsDouble(), Odds8, hi.AsDouble()).As<double, T>());
    }

    /// <summary>Interleaves even and odd columns back into 2·n elements at p.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePairs<T>(T* p, Vector512<T> even, Vector512<T> odd, int n) where T : unmanaged
    {
        int l = L<T>();
        Vector512<T> lo, hi;
        if (typeof(T) == typeof(float))
        {
            var (a, b) = Kernels.Pairs.Join(even.AsSingle(), odd.AsSingle());
            (lo, hi) = (a.As<float, T>(), b.As<float, T>());
        }
        else
        {
            lo = Avx512F.PermuteVar8x64x2(even.AsDouble(), LowHalves8, odd.AsDouble()).As<double, T>();
            hi = Avx512F.PermuteVar8x64x2(even.AsDouble(), HighHalves8, odd.AsDouble()).As<double, T>();
        }
        if (n == l) { Vector512.Store(lo, p); Vector512.Store(hi, p + l); return; }
        Store(p, lo, Math.Min(2 * n, l));
        if (2 * n > l) Store(p + l, hi, 2 * n - l);
    }

    // float64's permutes (the float ones are Kernels.Pairs'); this kernel runs only where AVX-512 does.
    private static readonly Vector512<long> Evens8 = Vector512.Create(0L, 2, 4, 6, 8, 10, 12, 14);
    private static readonly Vector512<long> Odds8 = Vector512.Create(1L, 3, 5, 7, 9, 11, 13, 15);
    private static readonly Vector512<long> LowHalves8 = Vector512.Create(0L, 8, 1, 9, 2, 10, 3, 11);
    private static readonly Vector512<long> HighHalves8 = Vector512.Create(4L, 12, 5, 13, 6, 14, 7, 15);
    private static readonly Vector512<long> Indices8 = Vector512.Create(0L, 1, 2, 3, 4, 5, 6, 7);

    /// <summary>Lanes [0, n) from src, zeros after; memory past them is not read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Load<T>(T* src, int n) where T : unmanaged =>
        typeof(T) == typeof(float) ? LaneMask.Load((float*)src, n).As<float, T>()
            : Avx512F.MaskLoad((double*)src, DoubleMask(n), Vector512<double>.Zero).As<double, T>();

    /// <summary>Stores lanes [0, n) of v at dst; memory past them is not touched.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(T* dst, Vector512<T> v, int n) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) LaneMask.Store((float*)dst, v.AsSingle(), n);
        else Avx512F.MaskStore((double*)dst, DoubleMask(n), v.AsDouble());
    }

    private static Vector512<double> DoubleMask(int n) => Vector512.LessThan(Indices8, Vector512.Create((long)n)).AsDouble();
}
