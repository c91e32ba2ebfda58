using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GraphNet.Runtime.Kernels;

/// <summary>
/// Even and odd columns of 32 floats, in and out of two 16-lane vectors: stride-2 windows
/// (2×2 pooling, Winograd F(2×2,3×3) tiles) read a row as its even and odd columns. AVX-512
/// does each in two permutes; AVX2 machines (whose Vector512 is two Vector256 halves) shuffle
/// each half.
/// </summary>
internal static class Pairs
{
    private static readonly Vector512<int> Evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    private static readonly Vector512<int> Odds = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    private static readonly Vector512<int> LowHalves = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    private static readonly Vector512<int> HighHalves = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);

    /// <summary>Columns 0, 2, .., 30 and 1, 3, .., 31 of the 32 floats lo:hi.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector512<float> Even, Vector512<float> Odd) Split(Vector512<float> lo, Vector512<float> hi)
    {
        if (Avx512F.IsSupported) return (Avx512F.PermuteVar16x32x2(lo, Evens, hi), Avx512F.PermuteVar16x32x2(lo, Odds, hi));
        var (e0, o0) = Split(lo.GetLower(), lo.GetUpper());
        var (e1, o1) = Split(hi.GetLower(), hi.GetUpper());
        return (Vector512.Create(e0, e1), Vector512.Create(o0, o1));
    }

    /// <summary>The 32 floats whose even columns are <paramref name="even"/> and odd ones <paramref name="odd"/>, as lo:hi.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector512<float> Lo, Vector512<float> Hi) Join(Vector512<float> even, Vector512<float> odd)
    {
        if (Avx512F.IsSupported) return (Avx512F.PermuteVar16x32x2(even, LowHalves, odd), Avx512F.PermuteVar16x32x2(even, HighHalves, odd));
        var (a, b) = Join(even.GetLower(), odd.GetLower());
        var (c, d) = Join(even.GetUpper(), odd.GetUpper());
        return (Vector512.Create(a, b), Vector512.Create(c, d));
    }

    /// <summary>Even and odd columns of the 16 floats a:b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float>, Vector256<float>) Split(Vector256<float> a, Vector256<float> b)
    {
        // Per 128-bit lane: [a0 a2 b0 b2], then the 64-bit pairs put in order (a's, then b's).
        var e = Avx.Shuffle(a, b, 0b10_00_10_00);
        var o = Avx.Shuffle(a, b, 0b11_01_11_01);
        return (Avx2.Permute4x64(e.AsDouble(), 0b11_01_10_00).AsSingle(), Avx2.Permute4x64(o.AsDouble(), 0b11_01_10_00).AsSingle());
    }

    /// <summary>16 floats e0 o0 e1 o1 .. e7 o7 as two vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float>, Vector256<float>) Join(Vector256<float> e, Vector256<float> o)
    {
        var t0 = Avx.UnpackLow(e, o); var t1 = Avx.UnpackHigh(e, o);
        return (Avx.Permute2x128(t0, t1, 0x20), Avx.Permute2x128(t0, t1, 0x31));
    }
}

/// <summary>
/// Stride-4 columns of 32 floats as four 8-lane phases (Winograd F(4×4,3×3) tiles start every
/// four columns): phase k lane t is column 4t + k. AVX-512 permutes 32 floats at once; AVX2
/// transposes 4×4 blocks within each 128-bit lane, then puts the lanes in order.
/// </summary>
internal static unsafe class Quads
{
    private static readonly Vector512<int> Phases01 = Vector512.Create(0, 4, 8, 12, 16, 20, 24, 28, 1, 5, 9, 13, 17, 21, 25, 29);
    private static readonly Vector512<int> Phases23 = Vector512.Create(2, 6, 10, 14, 18, 22, 26, 30, 3, 7, 11, 15, 19, 23, 27, 31);
    private static readonly Vector512<int> JoinLow = Vector512.Create(0, 8, 16, 24, 1, 9, 17, 25, 2, 10, 18, 26, 3, 11, 19, 27);
    private static readonly Vector512<int> JoinHigh = Vector512.Create(4, 12, 20, 28, 5, 13, 21, 29, 6, 14, 22, 30, 7, 15, 23, 31);
    /// <summary>After the in-lane transpose a phase holds tiles 0 2 4 6 | 1 3 5 7; these put them in order, and back.</summary>
    private static readonly Vector256<int> Interleaved = Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7);
    private static readonly Vector256<int> Deinterleaved = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);

    /// <summary>The four phases of the 32 floats at <paramref name="e"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>) Split(float* e)
    {
        if (Avx512F.IsSupported)
        {
            var lo = Vector512.Load(e); var hi = Vector512.Load(e + 16);
            var p01 = Avx512F.PermuteVar16x32x2(lo, Phases01, hi);
            var p23 = Avx512F.PermuteVar16x32x2(lo, Phases23, hi);
            return (p01.GetLower(), p01.GetUpper(), p23.GetLower(), p23.GetUpper());
        }
        var (k0, k1, k2, k3) = Transpose(Vector256.Load(e), Vector256.Load(e + 8), Vector256.Load(e + 16), Vector256.Load(e + 24));
        return (Avx2.PermuteVar8x32(k0, Interleaved), Avx2.PermuteVar8x32(k1, Interleaved),
            Avx2.PermuteVar8x32(k2, Interleaved), Avx2.PermuteVar8x32(k3, Interleaved));
    }

    /// <summary>The 32 floats whose phases are c0..c3 (the inverse of <see cref="Split"/>), as four vectors of eight.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>) Join(
        Vector256<float> c0, Vector256<float> c1, Vector256<float> c2, Vector256<float> c3)
    {
        if (Avx512F.IsSupported)
        {
            var p01 = Vector512.Create(c0, c1); var p23 = Vector512.Create(c2, c3);
            var lo = Avx512F.PermuteVar16x32x2(p01, JoinLow, p23);
            var hi = Avx512F.PermuteVar16x32x2(p01, JoinHigh, p23);
            return (lo.GetLower(), lo.GetUpper(), hi.GetLower(), hi.GetUpper());
        }
        return Transpose(Avx2.PermuteVar8x32(c0, Deinterleaved), Avx2.PermuteVar8x32(c1, Deinterleaved),
            Avx2.PermuteVar8x32(c2, Deinterleaved), Avx2.PermuteVar8x32(c3, Deinterleaved));
    }

    /// <summary>The 4×4 transpose of rows a, b, c, d within each 128-bit lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>) Transpose(
        Vector256<float> a, Vector256<float> b, Vector256<float> c, Vector256<float> d)
    {
        var t0 = Avx.UnpackLow(a, b); var t1 = Avx.UnpackHigh(a, b); var t2 = Avx.UnpackLow(c, d); var t3 = Avx.UnpackHigh(c, d);
        return (Avx.Shuffle(t0, t2, 0x44), Avx.Shuffle(t0, t2, 0xEE), Avx.Shuffle(t1, t3, 0x44), Avx.Shuffle(t1, t3, 0xEE));
    }
}

/// <summary>
/// The ragged end of a row or a tile: masks for the first lanes, and loads and stores of only
/// those lanes (AVX-512's masked moves, or AVX's vmaskmov on each 256-bit half).
/// </summary>
internal static unsafe class LaneMask
{
    private static readonly Vector512<int> Indices = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    private static readonly Vector256<int> Indices8 = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);

    /// <summary>All ones in lanes [0, n), zeros from n on (n ≤ 0: none, n ≥ 16: all).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> First(int n) => Vector512.LessThan(Indices, Vector512.Create(n)).AsSingle();

    /// <summary>All ones in lanes [0, n) of eight.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> First8(int n) => Vector256.LessThan(Indices8, Vector256.Create(n)).AsSingle();

    /// <summary>Stores lanes [0, n) of v at dst; memory past them is not touched.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* dst, Vector512<float> v, int n)
    {
        if (Avx512F.IsSupported) { Avx512F.MaskStore(dst, First(n), v); return; }
        Avx.MaskStore(dst, First8(n), v.GetLower());
        if (n > 8) Avx.MaskStore(dst + 8, First8(n - 8), v.GetUpper());
    }

    /// <summary>Stores lanes [0, n) of v at dst.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* dst, Vector256<float> v, int n) => Avx.MaskStore(dst, First8(n), v);

    /// <summary>Lanes [0, n) from src, zeros after; memory past them is not read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float* src, int n)
    {
        if (Avx512F.IsSupported) return Avx512F.MaskLoad(src, First(n), Vector512<float>.Zero);
        var lo = Avx.MaskLoad(src, First8(n));
        return Vector512.Create(lo, n > 8 ? Avx.MaskLoad(src + 8, First8(n - 8)) : Vector256<float>.Zero);
    }
}
