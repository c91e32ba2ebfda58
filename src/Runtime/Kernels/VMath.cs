using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GraphNet.Runtime.Kernels;

/// <summary>
/// Vector forms of the pointwise functions that Vector512 lacks, for generated code. Where no
/// vector algorithm is worth it yet, they apply the scalar function lane by lane.
/// </summary>
public static class VMath
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> PerLane<T>(Vector512<T> x, Func<T, T> f) where T : unmanaged
    {
        Span<T> t = stackalloc T[Vector512<T>.Count];
        x.CopyTo(t);
        for (int i = 0; i < t.Length; i++) t[i] = f(t[i]);
        return Vector512.Create<T>(t);
    }

    public static Vector512<T> Tanh<T>(Vector512<T> x) where T : unmanaged, IFloatingPointIeee754<T> => PerLane(x, T.Tanh);

    // tanh(x) = sign(x)·(1 − 2/(exp(2|x|) + 1)), with the odd Taylor polynomial near zero where
    // that form cancels; relative error ≤ 2e-6 in float (the per-lane scalar call it replaces
    // made an unrolled LSTM spend most of its pointwise time in tanh).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Tanh(Vector512<float> x)
    {
        var ax = Vector512.Abs(x);
        var big = Vector512<float>.One - Vector512.Create(2f) / (VExp.Exp(ax + ax) + Vector512<float>.One);
        var x2 = x * x;
        var small = ax * (Vector512<float>.One + x2 * (Vector512.Create(-1f / 3) + x2 * (Vector512.Create(2f / 15) + x2 * Vector512.Create(-17f / 315))));
        var r = Vector512.ConditionalSelect(Vector512.LessThan(ax, Vector512.Create(0.0625f)), small, big);
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), -r, r); // NaN flows through Exp
    }

    public static Vector512<double> Tanh(Vector512<double> x) => PerLane(x, double.Tanh);

    public static T Softplus<T>(T x) where T : IFloatingPointIeee754<T> =>
        x > T.Zero ? x + T.Log(T.One + T.Exp(-x)) : T.Log(T.One + T.Exp(x));

    // max(x, 0) + log(1 + exp(-|x|)): stable for both signs.
    public static Vector512<float> Softplus(Vector512<float> x) =>
        Vector512.Max(x, Vector512<float>.Zero) + VExp.Log(Vector512<float>.One + VExp.Exp(-Vector512.Abs(x)));

    public static Vector512<double> Softplus(Vector512<double> x) =>
        Vector512.Max(x, Vector512<double>.Zero) + VExp.Log(Vector512<double>.One + VExp.Exp(-Vector512.Abs(x)));

    public static Vector512<T> Sign<T>(Vector512<T> x) where T : unmanaged, IFloatingPointIeee754<T> =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), Vector512<T>.One,
            Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<T>.Zero), -Vector512<T>.One, Vector512<T>.Zero));

    public static Vector512<T> Pow<T>(Vector512<T> a, Vector512<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<T> x = stackalloc T[Vector512<T>.Count], y = stackalloc T[Vector512<T>.Count];
        a.CopyTo(x); b.CopyTo(y);
        for (int i = 0; i < x.Length; i++) x[i] = T.Pow(x[i], y[i]);
        return Vector512.Create<T>(x);
    }

    /// <summary>Dropout's factor for flat index i: 1/(1-rate) where kept, 0 where dropped (same draw as the reference).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T DropoutScale<T>(ulong key, long i, float rate, T scale) where T : IFloatingPointIeee754<T> =>
        CounterRng.Uniform(key, (ulong)i) >= rate ? scale : T.Zero;

    private static readonly Vector512<ulong> M1 = Vector512.Create(0xBF58476D1CE4E5B9UL), M2 = Vector512.Create(0x94D049BB133111EBUL);

    /// <summary>CounterRng.Mix on eight lanes: the same bits as the scalar version.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Mix(Vector512<ulong> z)
    {
        z = (z ^ Vector512.ShiftRightLogical(z, 30)) * M1;
        z = (z ^ Vector512.ShiftRightLogical(z, 27)) * M2;
        return z ^ Vector512.ShiftRightLogical(z, 31);
    }

    /// <summary>CounterRng.Uniform for indices start..start+7, as doubles (exact: 24-bit values).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Uniform8(ulong key, long start)
    {
        var idx = Vector512.Create((ulong)start) + Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7);
        var bits = Mix(Vector512.Create(key) ^ Mix(idx + Vector512.Create(0x632BE59BD9B4E019UL)));
        return Vector512.ConvertToDouble(Vector512.ShiftRightLogical(bits, 40)) * (1.0 / (1 << 24));
    }

    /// <summary>Dropout factors for 16 float lanes (the same draws as the reference).</summary>
    public static Vector512<float> DropoutScaleV(ulong key, long start, float rate, float scale)
    {
        var u = Vector512.Narrow(Uniform8(key, start), Uniform8(key, start + 8));
        return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(u, Vector512.Create(rate)), Vector512.Create(scale), Vector512<float>.Zero);
    }

    /// <summary>Dropout factors for 8 double lanes.</summary>
    public static Vector512<double> DropoutScaleV(ulong key, long start, float rate, double scale)
    {
        var u = Uniform8(key, start);
        return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(u, Vector512.Create((double)rate)), Vector512.Create(scale), Vector512<double>.Zero);
    }

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

    public static Vector512<T> OneHotV<T>(long[] labels, long start, int depth) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<T> t = stackalloc T[Vector512<T>.Count];
        for (int i = 0; i < t.Length; i++) t[i] = OneHot<T>(labels, start + i, depth);
        return Vector512.Create<T>(t);
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
