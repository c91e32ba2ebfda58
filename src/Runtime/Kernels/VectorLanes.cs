using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GraphNet.Runtime.Kernels;

/// <summary>
/// Even and odd columns of 32 floats, in and out of two 16-lane vectors: stride-2 windows
/// (2×2 pooling, Winograd F(2×2,3×3) tiles) read a row as its even and odd columns.
/// </summary>
internal static class Pairs
{
    private static readonly Vector512<int> Evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    private static readonly Vector512<int> Odds = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    private static readonly Vector512<int> LowHalves = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    private static readonly Vector512<int> HighHalves = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);

    /// <summary>Columns 0, 2, .., 30 and 1, 3, .., 31 of the 32 floats lo:hi.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector512<float> Even, Vector512<float> Odd) Split(Vector512<float> lo, Vector512<float> hi) =>
        (Avx512F.PermuteVar16x32x2(lo, Evens, hi), Avx512F.PermuteVar16x32x2(lo, Odds, hi));

    /// <summary>The 32 floats whose even columns are <paramref name="even"/> and odd ones <paramref name="odd"/>, as lo:hi.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector512<float> Lo, Vector512<float> Hi) Join(Vector512<float> even, Vector512<float> odd) =>
        (Avx512F.PermuteVar16x32x2(even, LowHalves, odd), Avx512F.PermuteVar16x32x2(even, HighHalves, odd));
}

/// <summary>Masks for the first lanes of a Vector512: the ragged end of a row or a tile.</summary>
internal static class LaneMask
{
    private static readonly Vector512<int> Indices = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);

    /// <summary>All ones in lanes [0, n), zeros from n on (n ≤ 0: none, n ≥ 16: all).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> First(int n) => Vector512.LessThan(Indices, Vector512.Create(n)).AsSingle();
}
