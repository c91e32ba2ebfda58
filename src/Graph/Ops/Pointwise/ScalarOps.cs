using System.Numerics;
using System.Runtime.CompilerServices;

namespace GraphNet;

/// <summary>
/// The scalar primitives every pointwise formula is written in (the design of TorchInductor's
/// <c>ops</c> handler). A backend implements them once for its kind of value <typeparamref name="V"/>
/// (a float, a <c>Vector512&lt;float&gt;</c>, a device scalar) and its kind of comparison result
/// <typeparamref name="M"/> (a bool, a lane mask), and so renders every entry of the table.
/// A backend that lacks a primitive does not build.
/// </summary>
/// <remarks>
/// Numeric semantics are PyTorch's on every backend: <see cref="Max"/> and <see cref="Min"/>
/// propagate NaN and order −0 below +0 (IEEE 754-2019 maximum and minimum, as .NET's
/// <c>float.Max</c> and <c>Vector512.Max</c>); comparisons with NaN are false.
/// </remarks>
public interface IScalarOps<V, M>
{
    static abstract V Const(double c);
    static abstract V Add(V a, V b);
    static abstract V Sub(V a, V b);
    static abstract V Mul(V a, V b);
    static abstract V Div(V a, V b);
    static abstract V Neg(V a);
    static abstract V Abs(V a);
    static abstract V Sqrt(V a);
    static abstract V Exp(V a);
    static abstract V Log(V a);
    static abstract V Tanh(V a);
    static abstract V Pow(V a, V b);
    /// <summary>The larger of a and b; NaN if either is NaN; max(−0, +0) = +0.</summary>
    static abstract V Max(V a, V b);
    /// <summary>The smaller of a and b; NaN if either is NaN; min(−0, +0) = −0.</summary>
    static abstract V Min(V a, V b);
    static abstract M Equal(V a, V b);
    static abstract M NotEqual(V a, V b);
    static abstract M Less(V a, V b);
    static abstract M LessEqual(V a, V b);
    static abstract M Greater(V a, V b);
    static abstract M GreaterEqual(V a, V b);
    /// <summary>a where m holds, else b.</summary>
    static abstract V Select(M m, V a, V b);
}

/// <summary>
/// A value in a formula: wraps a handler's value so formulas read as arithmetic
/// (<c>1 / (1 + Exp(-x))</c>). It costs nothing once the JIT has inlined it.
/// </summary>
public readonly struct Num<V, M, O>(V value) where O : IScalarOps<V, M>
{
    public V Value { get; } = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static implicit operator Num<V, M, O>(double c) => new(O.Const(c));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Num<V, M, O> operator +(Num<V, M, O> a, Num<V, M, O> b) => new(O.Add(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Num<V, M, O> operator -(Num<V, M, O> a, Num<V, M, O> b) => new(O.Sub(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Num<V, M, O> operator *(Num<V, M, O> a, Num<V, M, O> b) => new(O.Mul(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Num<V, M, O> operator /(Num<V, M, O> a, Num<V, M, O> b) => new(O.Div(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Num<V, M, O> operator -(Num<V, M, O> a) => new(O.Neg(a.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Mask<V, M, O> operator <(Num<V, M, O> a, Num<V, M, O> b) => new(O.Less(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Mask<V, M, O> operator <=(Num<V, M, O> a, Num<V, M, O> b) => new(O.LessEqual(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Mask<V, M, O> operator >(Num<V, M, O> a, Num<V, M, O> b) => new(O.Greater(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Mask<V, M, O> operator >=(Num<V, M, O> a, Num<V, M, O> b) => new(O.GreaterEqual(a.Value, b.Value));
}

/// <summary>The result of comparing two <see cref="Num{V, M, O}"/>s, for <see cref="ScalarMath.Where"/>.</summary>
public readonly struct Mask<V, M, O>(M value) where O : IScalarOps<V, M>
{
    public M Value { get; } = value;
}

/// <summary>The primitives that are functions rather than operators, for formulas (<c>using static</c>).</summary>
public static class ScalarMath
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Num<V, M, O> Exp<V, M, O>(Num<V, M, O> x) where O : IScalarOps<V, M> => new(O.Exp(x.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Num<V, M, O> Log<V, M, O>(Num<V, M, O> x) where O : IScalarOps<V, M> => new(O.Log(x.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Num<V, M, O> Sqrt<V, M, O>(Num<V, M, O> x) where O : IScalarOps<V, M> => new(O.Sqrt(x.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Num<V, M, O> Abs<V, M, O>(Num<V, M, O> x) where O : IScalarOps<V, M> => new(O.Abs(x.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Num<V, M, O> Tanh<V, M, O>(Num<V, M, O> x) where O : IScalarOps<V, M> => new(O.Tanh(x.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Num<V, M, O> Pow<V, M, O>(Num<V, M, O> a, Num<V, M, O> b) where O : IScalarOps<V, M> => new(O.Pow(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Num<V, M, O> Max<V, M, O>(Num<V, M, O> a, Num<V, M, O> b) where O : IScalarOps<V, M> => new(O.Max(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Num<V, M, O> Min<V, M, O>(Num<V, M, O> a, Num<V, M, O> b) where O : IScalarOps<V, M> => new(O.Min(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Mask<V, M, O> Eq<V, M, O>(Num<V, M, O> a, Num<V, M, O> b) where O : IScalarOps<V, M> => new(O.Equal(a.Value, b.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Num<V, M, O> Where<V, M, O>(Mask<V, M, O> m, Num<V, M, O> a, Num<V, M, O> b) where O : IScalarOps<V, M> =>
        new(O.Select(m.Value, a.Value, b.Value));
}

/// <summary>
/// The reference handler: plain scalar arithmetic, generic over float and double (the double
/// form is the oracle of gradient checks and the fuzzer). Its Max and Min are .NET's IEEE
/// 754-2019 ones, which the vector handlers share by construction.
/// </summary>
public readonly struct Reference<T> : IScalarOps<T, bool> where T : IFloatingPointIeee754<T>
{
    /// <summary>One element of a table entry, rendered by this handler.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Unary<TF>(T x, T p) where TF : IUnaryFormula => TF.Apply<T, bool, Reference<T>>(new(x), new(p)).Value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Binary<TF>(T a, T b, T p) where TF : IBinaryFormula => TF.Apply<T, bool, Reference<T>>(new(a), new(b), new(p)).Value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Const(double c) => T.CreateTruncating(c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Add(T a, T b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Sub(T a, T b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Mul(T a, T b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Div(T a, T b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Neg(T a) => -a;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Abs(T a) => T.Abs(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Sqrt(T a) => T.Sqrt(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Exp(T a) => T.Exp(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Log(T a) => T.Log(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Tanh(T a) => T.Tanh(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Pow(T a, T b) => T.Pow(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Max(T a, T b) => T.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Min(T a, T b) => T.Min(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Equal(T a, T b) => a == b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool NotEqual(T a, T b) => a != b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Less(T a, T b) => a < b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool LessEqual(T a, T b) => a <= b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Greater(T a, T b) => a > b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool GreaterEqual(T a, T b) => a >= b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Select(bool m, T a, T b) => m ? a : b;
}
