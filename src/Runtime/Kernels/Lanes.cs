using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GraphNet.Runtime.Kernels;

/// <summary>
/// What the float algorithms below need of a vector width: float lanes <typeparamref name="V"/>
/// and int lanes <typeparamref name="VI"/> of the same width. .NET's own common vector
/// interface is not public, so each width is a struct of one-line forwarders.
/// </summary>
internal interface ILanes<V, VI>
{
    static abstract V F(float c);
    static abstract VI I(int c);
    static abstract V Add(V a, V b);
    static abstract V Sub(V a, V b);
    static abstract V Mul(V a, V b);
    static abstract V Div(V a, V b);
    static abstract V Fma(V a, V b, V c);
    static abstract V Min(V a, V b);
    static abstract V Max(V a, V b);
    static abstract V Abs(V a);
    static abstract V Less(V a, V b);
    static abstract V Greater(V a, V b);
    static abstract V Equal(V a, V b);
    static abstract V Select(V m, V a, V b);
    static abstract V Or(V a, V b);
    static abstract V And(V a, V b);
    static abstract VI AsInt(V a);
    static abstract V AsFloat(VI a);
    static abstract V ToFloat(VI a);
    static abstract VI IAdd(VI a, VI b);
    static abstract VI ISub(VI a, VI b);
    static abstract VI IAnd(VI a, VI b);
    static abstract VI IOr(VI a, VI b);
    static abstract VI ShiftLeft(VI a, int n);
    static abstract VI ShiftRightArithmetic(VI a, int n);
    static abstract VI ShiftRightLogical(VI a, int n);
}

internal readonly struct Lanes256 : ILanes<Vector256<float>, Vector256<int>>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> F(float c) => Vector256.Create(c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<int> I(int c) => Vector256.Create(c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Sub(Vector256<float> a, Vector256<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Mul(Vector256<float> a, Vector256<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Div(Vector256<float> a, Vector256<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Min(Vector256<float> a, Vector256<float> b) => Vector256.Min(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Abs(Vector256<float> a) => Vector256.Abs(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Less(Vector256<float> a, Vector256<float> b) => Vector256.LessThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Greater(Vector256<float> a, Vector256<float> b) => Vector256.GreaterThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Equal(Vector256<float> a, Vector256<float> b) => Vector256.Equals(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Select(Vector256<float> m, Vector256<float> a, Vector256<float> b) => Vector256.ConditionalSelect(m, a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Or(Vector256<float> a, Vector256<float> b) => a | b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> And(Vector256<float> a, Vector256<float> b) => a & b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<int> AsInt(Vector256<float> a) => a.AsInt32();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> AsFloat(Vector256<int> a) => a.AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> ToFloat(Vector256<int> a) => Vector256.ConvertToSingle(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<int> IAdd(Vector256<int> a, Vector256<int> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<int> ISub(Vector256<int> a, Vector256<int> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<int> IAnd(Vector256<int> a, Vector256<int> b) => a & b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<int> IOr(Vector256<int> a, Vector256<int> b) => a | b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<int> ShiftLeft(Vector256<int> a, int n) => Vector256.ShiftLeft(a, n);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> ShiftRightArithmetic(Vector256<int> a, int n) => Vector256.ShiftRightArithmetic(a, n);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> ShiftRightLogical(Vector256<int> a, int n) => Vector256.ShiftRightLogical(a, n);
}

internal readonly struct Lanes512 : ILanes<Vector512<float>, Vector512<int>>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> F(float c) => Vector512.Create(c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<int> I(int c) => Vector512.Create(c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Sub(Vector512<float> a, Vector512<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Mul(Vector512<float> a, Vector512<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Div(Vector512<float> a, Vector512<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Min(Vector512<float> a, Vector512<float> b) => Vector512.Min(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Abs(Vector512<float> a) => Vector512.Abs(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Less(Vector512<float> a, Vector512<float> b) => Vector512.LessThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Greater(Vector512<float> a, Vector512<float> b) => Vector512.GreaterThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Equal(Vector512<float> a, Vector512<float> b) => Vector512.Equals(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Select(Vector512<float> m, Vector512<float> a, Vector512<float> b) => Vector512.ConditionalSelect(m, a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Or(Vector512<float> a, Vector512<float> b) => a | b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> And(Vector512<float> a, Vector512<float> b) => a & b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<int> AsInt(Vector512<float> a) => a.AsInt32();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> AsFloat(Vector512<int> a) => a.AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> ToFloat(Vector512<int> a) => Vector512.ConvertToSingle(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<int> IAdd(Vector512<int> a, Vector512<int> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<int> ISub(Vector512<int> a, Vector512<int> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<int> IAnd(Vector512<int> a, Vector512<int> b) => a & b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<int> IOr(Vector512<int> a, Vector512<int> b) => a | b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<int> ShiftLeft(Vector512<int> a, int n) => Vector512.ShiftLeft(a, n);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> ShiftRightArithmetic(Vector512<int> a, int n) => Vector512.ShiftRightArithmetic(a, n);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> ShiftRightLogical(Vector512<int> a, int n) => Vector512.ShiftRightLogical(a, n);
}
