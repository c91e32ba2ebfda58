using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GraphNet.Runtime.Kernels;

/// <summary>
/// A vector handler: the scalar primitives over whole vectors of <typeparamref name="T"/>
/// (comparisons give lane masks of the same type), and what loops over memory need besides.
/// Generated loops, eager kernels and the runtime's pointwise kernels are written once over it
/// and instantiated for <see cref="Simd512{T}"/> or <see cref="Simd256{T}"/>, whichever the
/// machine runs natively (<see cref="Simd.Width"/>).
/// </summary>
public interface IVectorOps<T, V> : IScalarOps<V, V> where T : unmanaged
{
    static abstract int Count { get; }
    static abstract V Load(ref T source, nuint index);
    static abstract void Store(V value, ref T destination, nuint index);
    static abstract V Splat(T value);
    static abstract V Create(ReadOnlySpan<T> lanes);
    static abstract T Lane(V value, int index);
    /// <summary>Dropout's factor for flat indices start.. (the same draws as <see cref="CounterRng"/>): scale where kept, 0 where dropped.</summary>
    static abstract V DropoutScale(ulong key, long start, float rate, T scale);
}

/// <summary>The vector width this machine runs natively, which generated code and eager kernels use.</summary>
public static class Simd
{
    /// <summary>512 with AVX-512, 256 with AVX2 (or any accelerated 256-bit vectors), else 0 (scalar loops).</summary>
    public static int Width { get; } = Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : 0;

    /// <summary>
    /// Whether the lane shuffles and masked moves of the convolution and pooling kernels run here
    /// (<see cref="Pairs"/>, <see cref="Quads"/>, <see cref="LaneMask"/>): AVX-512, or AVX2 with FMA.
    /// Their Vector512 arithmetic runs as two 256-bit halves on AVX2 machines.
    /// </summary>
    public static bool Shuffles { get; } = System.Runtime.Intrinsics.X86.Avx512F.IsSupported
        || (System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported);

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
    internal static Vector512<double> Uniform8(ulong key, long start)
    {
        var idx = Vector512.Create((ulong)start) + Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7);
        var bits = Mix(Vector512.Create(key) ^ Mix(idx + Vector512.Create(0x632BE59BD9B4E019UL)));
        return Vector512.ConvertToDouble(Vector512.ShiftRightLogical(bits, 40)) * (1.0 / (1 << 24));
    }

    private static readonly Vector256<ulong> N1 = Vector256.Create(0xBF58476D1CE4E5B9UL), N2 = Vector256.Create(0x94D049BB133111EBUL);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> Mix(Vector256<ulong> z)
    {
        z = (z ^ Vector256.ShiftRightLogical(z, 30)) * N1;
        z = (z ^ Vector256.ShiftRightLogical(z, 27)) * N2;
        return z ^ Vector256.ShiftRightLogical(z, 31);
    }

    /// <summary>CounterRng.Uniform for indices start..start+3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<double> Uniform4(ulong key, long start)
    {
        var idx = Vector256.Create((ulong)start) + Vector256.Create(0UL, 1, 2, 3);
        var bits = Mix(Vector256.Create(key) ^ Mix(idx + Vector256.Create(0x632BE59BD9B4E019UL)));
        return Vector256.ConvertToDouble(Vector256.ShiftRightLogical(bits, 40)) * (1.0 / (1 << 24));
    }
}

/// <summary>The vector handler on 512-bit vectors (AVX-512).</summary>
public readonly struct Simd512<T> : IVectorOps<T, Vector512<T>> where T : unmanaged, IFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Unary<TF>(Vector512<T> x, Vector512<T> p) where TF : IUnaryFormula =>
        TF.Apply<Vector512<T>, Vector512<T>, Simd512<T>>(new(x), new(p)).Value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Binary<TF>(Vector512<T> a, Vector512<T> b, Vector512<T> p) where TF : IBinaryFormula =>
        TF.Apply<Vector512<T>, Vector512<T>, Simd512<T>>(new(a), new(b), new(p)).Value;

    public static int Count => Vector512<T>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Load(ref T source, nuint index) => Vector512.LoadUnsafe(ref source, index);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<T> value, ref T destination, nuint index) => value.StoreUnsafe(ref destination, index);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Splat(T value) => Vector512.Create(value);
    public static Vector512<T> Create(ReadOnlySpan<T> lanes) => Vector512.Create(lanes);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Lane(Vector512<T> value, int index) => value[index];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> DropoutScale(ulong key, long start, float rate, T scale)
    {
        if (typeof(T) == typeof(float))
        {
            var u = Vector512.Narrow(Simd.Uniform8(key, start), Simd.Uniform8(key, start + 8));
            var kept = Vector512.GreaterThanOrEqual(u, Vector512.Create(rate));
            return Vector512.ConditionalSelect(kept, Vector512.Create(scale).As<T, float>(), default).As<float, T>();
        }
        var d = Simd.Uniform8(key, start);
        var keep = Vector512.GreaterThanOrEqual(d, Vector512.Create((double)rate));
        return Vector512.ConditionalSelect(keep, Vector512.Create(scale).As<T, double>(), default).As<double, T>();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Const(double c) => Vector512.Create(T.CreateTruncating(c));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Add(Vector512<T> a, Vector512<T> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Sub(Vector512<T> a, Vector512<T> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Mul(Vector512<T> a, Vector512<T> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Div(Vector512<T> a, Vector512<T> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Neg(Vector512<T> a) => -a;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Abs(Vector512<T> a) => Vector512.Abs(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Sqrt(Vector512<T> a) => Vector512.Sqrt(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Exp(Vector512<T> a) => typeof(T) == typeof(float) ? VExp.Exp(a.As<T, float>()).As<float, T>() : PerLane(a, T.Exp);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Log(Vector512<T> a) => typeof(T) == typeof(float) ? VExp.Log(a.As<T, float>()).As<float, T>() : PerLane(a, T.Log);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Tanh(Vector512<T> a) => typeof(T) == typeof(float) ? VExp.Tanh(a.As<T, float>()).As<float, T>() : PerLane(a, T.Tanh);

    public static Vector512<T> Pow(Vector512<T> a, Vector512<T> b)
    {
        Span<T> x = stackalloc T[Vector512<T>.Count], y = stackalloc T[Vector512<T>.Count];
        a.CopyTo(x); b.CopyTo(y);
        for (int i = 0; i < x.Length; i++) x[i] = T.Pow(x[i], y[i]);
        return Vector512.Create<T>(x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Max(Vector512<T> a, Vector512<T> b) => Vector512.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Min(Vector512<T> a, Vector512<T> b) => Vector512.Min(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Equal(Vector512<T> a, Vector512<T> b) => Vector512.Equals(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> NotEqual(Vector512<T> a, Vector512<T> b) => ~Vector512.Equals(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Less(Vector512<T> a, Vector512<T> b) => Vector512.LessThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> LessEqual(Vector512<T> a, Vector512<T> b) => Vector512.LessThanOrEqual(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Greater(Vector512<T> a, Vector512<T> b) => Vector512.GreaterThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> GreaterEqual(Vector512<T> a, Vector512<T> b) => Vector512.GreaterThanOrEqual(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Select(Vector512<T> m, Vector512<T> a, Vector512<T> b) => Vector512.ConditionalSelect(m, a, b);

    private static Vector512<T> PerLane(Vector512<T> x, Func<T, T> f)
    {
        Span<T> t = stackalloc T[Vector512<T>.Count];
        x.CopyTo(t);
        for (int i = 0; i < t.Length; i++) t[i] = f(t[i]);
        return Vector512.Create<T>(t);
    }
}

/// <summary>The vector handler on 256-bit vectors (AVX2 machines).</summary>
public readonly struct Simd256<T> : IVectorOps<T, Vector256<T>> where T : unmanaged, IFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Unary<TF>(Vector256<T> x, Vector256<T> p) where TF : IUnaryFormula =>
        TF.Apply<Vector256<T>, Vector256<T>, Simd256<T>>(new(x), new(p)).Value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Binary<TF>(Vector256<T> a, Vector256<T> b, Vector256<T> p) where TF : IBinaryFormula =>
        TF.Apply<Vector256<T>, Vector256<T>, Simd256<T>>(new(a), new(b), new(p)).Value;

    public static int Count => Vector256<T>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Load(ref T source, nuint index) => Vector256.LoadUnsafe(ref source, index);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<T> value, ref T destination, nuint index) => value.StoreUnsafe(ref destination, index);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Splat(T value) => Vector256.Create(value);
    public static Vector256<T> Create(ReadOnlySpan<T> lanes) => Vector256.Create(lanes);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Lane(Vector256<T> value, int index) => value[index];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> DropoutScale(ulong key, long start, float rate, T scale)
    {
        if (typeof(T) == typeof(float))
        {
            var u = Vector256.Narrow(Simd.Uniform4(key, start), Simd.Uniform4(key, start + 4));
            var kept = Vector256.GreaterThanOrEqual(u, Vector256.Create(rate));
            return Vector256.ConditionalSelect(kept, Vector256.Create(scale).As<T, float>(), default).As<float, T>();
        }
        var d = Simd.Uniform4(key, start);
        var keep = Vector256.GreaterThanOrEqual(d, Vector256.Create((double)rate));
        return Vector256.ConditionalSelect(keep, Vector256.Create(scale).As<T, double>(), default).As<double, T>();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Const(double c) => Vector256.Create(T.CreateTruncating(c));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Add(Vector256<T> a, Vector256<T> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Sub(Vector256<T> a, Vector256<T> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Mul(Vector256<T> a, Vector256<T> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Div(Vector256<T> a, Vector256<T> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Neg(Vector256<T> a) => -a;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Abs(Vector256<T> a) => Vector256.Abs(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Sqrt(Vector256<T> a) => Vector256.Sqrt(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Exp(Vector256<T> a) => typeof(T) == typeof(float) ? VExp.Exp(a.As<T, float>()).As<float, T>() : PerLane(a, T.Exp);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Log(Vector256<T> a) => typeof(T) == typeof(float) ? VExp.Log(a.As<T, float>()).As<float, T>() : PerLane(a, T.Log);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Tanh(Vector256<T> a) => typeof(T) == typeof(float) ? VExp.Tanh(a.As<T, float>()).As<float, T>() : PerLane(a, T.Tanh);

    public static Vector256<T> Pow(Vector256<T> a, Vector256<T> b)
    {
        Span<T> x = stackalloc T[Vector256<T>.Count], y = stackalloc T[Vector256<T>.Count];
        a.CopyTo(x); b.CopyTo(y);
        for (int i = 0; i < x.Length; i++) x[i] = T.Pow(x[i], y[i]);
        return Vector256.Create<T>(x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Max(Vector256<T> a, Vector256<T> b) => Vector256.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Min(Vector256<T> a, Vector256<T> b) => Vector256.Min(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Equal(Vector256<T> a, Vector256<T> b) => Vector256.Equals(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> NotEqual(Vector256<T> a, Vector256<T> b) => ~Vector256.Equals(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Less(Vector256<T> a, Vector256<T> b) => Vector256.LessThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> LessEqual(Vector256<T> a, Vector256<T> b) => Vector256.LessThanOrEqual(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Greater(Vector256<T> a, Vector256<T> b) => Vector256.GreaterThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> GreaterEqual(Vector256<T> a, Vector256<T> b) => Vector256.GreaterThanOrEqual(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Select(Vector256<T> m, Vector256<T> a, Vector256<T> b) => Vector256.ConditionalSelect(m, a, b);

    private static Vector256<T> PerLane(Vector256<T> x, Func<T, T> f)
    {
        Span<T> t = stackalloc T[Vector256<T>.Count];
        x.CopyTo(t);
        for (int i = 0; i < t.Length; i++) t[i] = f(t[i]);
        return Vector256.Create<T>(t);
    }
}
