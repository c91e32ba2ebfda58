using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GraphNet.Runtime.Kernels;

/// <summary>Helpers of generated loops that are not pointwise math: dropout draws, one_hot, strided rows.</summary>
public static class VMath
{
    /// <summary>Dropout's factor for flat index i (the reference's <see cref="DropoutOp.Factor{T}"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T DropoutScale<T>(ulong key, long i, float rate, T scale) where T : IFloatingPointIeee754<T> =>
        DropoutOp.Factor(key, i, rate, scale);

    /// <summary>Checks one_hot's labels before a loop uses them, with the reference evaluation's message.</summary>
    public static void CheckIndices(long[] labels, int depth)
    {
        foreach (var l in labels)
            if (l < 0 || l >= depth) throw new GraphException($"one_hot: index {l} is out of range [0, {depth}) (a label outside the class count?)");
    }

    /// <summary>one_hot's value at flat index i of an [..., depth] output.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T OneHot<T>(long[] labels, long i, int depth) where T : IFloatingPointIeee754<T> =>
        labels[i / depth] == i % depth ? T.One : T.Zero;

    /// <summary>one_hot's values at flat indices start.. of an [..., depth] output, one vector of handler O.</summary>
    public static V OneHotV<T, V, O>(long[] labels, long start, int depth) where T : unmanaged, IFloatingPointIeee754<T> where O : IVectorOps<T, V>
    {
        Span<T> t = stackalloc T[O.Count];
        for (int i = 0; i < t.Length; i++) t[i] = OneHot<T>(labels, start + i, depth);
        return O.Create(t);
    }

    /// <summary>
    /// Copies a strided (or broadcast, stride 0) run into a contiguous row: the calling thread's
    /// scratch row number <paramref name="slot"/> (one per leaf of a loop, so a loop's rows stay
    /// apart; per thread, so loops split over cores do not share them; kept, so steps do not allocate).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Span<T> Row<T>(T[] src, int offset, int stride, int n, int slot)
    {
        if (RowScratch<T>.Rows is not { } rows || rows.Length <= slot) Array.Resize(ref RowScratch<T>.Rows, Math.Max(slot + 1, 8));
        ref var scratch = ref RowScratch<T>.Rows![slot];
        if (scratch is null || scratch.Length < n) scratch = new T[Math.Max(n, 64)];
        var row = scratch.AsSpan(0, n);
        if (stride == 0) row.Fill(src[offset]);
        else for (int j = 0; j < n; j++) row[j] = src[offset + j * stride];
        return row;
    }

    private static class RowScratch<T>
    {
        [ThreadStatic] public static T[]?[]? Rows;
    }
}
