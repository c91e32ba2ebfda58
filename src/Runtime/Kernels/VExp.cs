using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GraphNet.Runtime.Kernels;

/// <summary>
/// exp, log and tanh on float lanes of any width (Cephes' expf/logf: range reduction, a short
/// polynomial, exponent arithmetic on the bits), within 2 ulp of the correctly rounded value,
/// denormal inputs and outputs included. .NET 10's Vector256/512.Exp and Log measured many
/// times slower here (lane-by-lane fallbacks), so the vector handlers use these. Each
/// algorithm is written once over <see cref="ILanes{V, VI}"/>; the public methods fix a width.
/// </summary>
public static class VExp
{
    private const float Log2E = 1.44269504088896341f, C1 = 0.693359375f, C2 = -2.12194440e-4f;
    // exp overflows above MaxX; below MinX even the smallest denormal rounds to 0.
    private const float MaxX = 88.7228391f, MinX = -103.972084f, SqrtHalf = 0.707106781186547524f;
    private const float SmallestNormal = 1.17549435e-38f;

    public static Vector256<float> Exp(Vector256<float> x) => Exp<Vector256<float>, Vector256<int>, Lanes256>(x);
    public static Vector512<float> Exp(Vector512<float> x) => Exp<Vector512<float>, Vector512<int>, Lanes512>(x);
    public static Vector256<float> Log(Vector256<float> x) => Log<Vector256<float>, Vector256<int>, Lanes256>(x);
    public static Vector512<float> Log(Vector512<float> x) => Log<Vector512<float>, Vector512<int>, Lanes512>(x);
    public static Vector256<float> Tanh(Vector256<float> x) => Tanh<Vector256<float>, Vector256<int>, Lanes256>(x);
    public static Vector512<float> Tanh(Vector512<float> x) => Tanh<Vector512<float>, Vector512<int>, Lanes512>(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static V Exp<V, VI, L>(V x) where L : ILanes<V, VI>
    {
        var c = L.Min(L.Max(x, L.F(MinX)), L.F(MaxX));
        // Round to nearest by adding 1.5·2²³: the integer then sits in the low mantissa bits.
        var t = L.Fma(c, L.F(Log2E), L.F(12582912f));
        var n = L.Sub(t, L.F(12582912f));
        var r = L.Sub(L.Sub(c, L.Mul(n, L.F(C1))), L.Mul(n, L.F(C2)));
        var r2 = L.Mul(r, r);
        var p = L.F(1.9875691500E-4f);
        p = L.Fma(p, r, L.F(1.3981999507E-3f));
        p = L.Fma(p, r, L.F(8.3334519073E-3f));
        p = L.Fma(p, r, L.F(4.1665795894E-2f));
        p = L.Fma(p, r, L.F(1.6666665459E-1f));
        p = L.Fma(p, r, L.F(5.0000001201E-1f));
        var y = L.Add(L.Fma(p, r2, r), L.F(1f));
        // y·2ⁿ as two factors 2^(n/2) and 2^(n−n/2): each stays a normal number for n in
        // [−150, 128], so large x does not overflow the exponent field and small x rounds to
        // the right denormal.
        var ni = L.ISub(L.AsInt(t), L.AsInt(L.F(12582912f)));
        var half = L.ShiftRightArithmetic(ni, 1);
        var s1 = L.AsFloat(L.ShiftLeft(L.IAdd(half, L.I(127)), 23));
        var s2 = L.AsFloat(L.ShiftLeft(L.IAdd(L.ISub(ni, half), L.I(127)), 23));
        var result = L.Mul(L.Mul(y, s1), s2);
        result = L.Select(L.Greater(x, L.F(MaxX)), L.F(float.PositiveInfinity), result);
        result = L.Select(L.Less(x, L.F(MinX)), L.F(0f), result);
        return L.Select(L.Equal(x, x), result, x); // NaN stays NaN
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static V Log<V, VI, L>(V x) where L : ILanes<V, VI>
    {
        // Denormals: scale by 2²³ into the normal range and take 23 off the exponent.
        var tiny = L.Less(x, L.F(SmallestNormal));
        var xs = L.Select(tiny, L.Mul(x, L.F(8388608f)), x);
        var bits = L.AsInt(L.Max(xs, L.F(SmallestNormal)));
        var e = L.ToFloat(L.ISub(L.ShiftRightLogical(bits, 23), L.I(126)));
        e = L.Sub(e, L.And(tiny, L.F(23f)));
        var m = L.AsFloat(L.IOr(L.IAnd(bits, L.I(0x007FFFFF)), L.I(0x3F000000))); // mantissa in [0.5, 1)
        var small = L.Less(m, L.F(SqrtHalf));
        e = L.Sub(e, L.And(small, L.F(1f)));
        m = L.Sub(L.Select(small, L.Add(m, m), m), L.F(1f));
        var z = L.Mul(m, m);
        var p = L.F(7.0376836292E-2f);
        p = L.Fma(p, m, L.F(-1.1514610310E-1f));
        p = L.Fma(p, m, L.F(1.1676998740E-1f));
        p = L.Fma(p, m, L.F(-1.2420140846E-1f));
        p = L.Fma(p, m, L.F(1.4249322787E-1f));
        p = L.Fma(p, m, L.F(-1.6668057665E-1f));
        p = L.Fma(p, m, L.F(2.0000714765E-1f));
        p = L.Fma(p, m, L.F(-2.4999993993E-1f));
        p = L.Fma(p, m, L.F(3.3333331174E-1f));
        var y = L.Mul(L.Mul(p, m), z);
        y = L.Fma(e, L.F(C2), y);
        y = L.Fma(z, L.F(-0.5f), y);
        var result = L.Add(L.Add(m, y), L.Mul(e, L.F(C1)));
        result = L.Select(L.Equal(x, L.F(0f)), L.F(float.NegativeInfinity), result);
        result = L.Select(L.Less(x, L.F(0f)), L.F(float.NaN), result);
        result = L.Select(L.Equal(x, L.F(float.PositiveInfinity)), x, result);
        return L.Select(L.Equal(x, x), result, x);
    }

    /// <summary>
    /// tanh(x) = sign(x)·(1 − 2/(exp(2|x|) + 1)), and for |x| &lt; 0.55, where that form loses
    /// digits to cancellation (by 0.55 it no longer does: tanh is half of 1), tanh's odd Taylor series
    /// to x¹⁵: the series alternates, so its error is below the first omitted term, 6e-4·x¹⁷, under
    /// 5e-8 of tanh(x) there. Relative error about 2e-7 everywhere, so that x − tanh(x) and the like
    /// keep their digits. The sign is copied from x, so tanh(−0) = −0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static V Tanh<V, VI, L>(V x) where L : ILanes<V, VI>
    {
        var ax = L.Abs(x);
        var big = L.Sub(L.F(1f), L.Div(L.F(2f), L.Add(Exp<V, VI, L>(L.Add(ax, ax)), L.F(1f))));
        var x2 = L.Mul(x, x);
        var poly = L.Fma(x2, L.F((float)(-929569.0 / 638512875)), L.F((float)(21844.0 / 6081075)));
        poly = L.Fma(x2, poly, L.F((float)(-1382.0 / 155925)));
        poly = L.Fma(x2, poly, L.F((float)(62.0 / 2835)));
        poly = L.Fma(x2, poly, L.F((float)(-17.0 / 315)));
        poly = L.Fma(x2, poly, L.F((float)(2.0 / 15)));
        poly = L.Fma(x2, poly, L.F((float)(-1.0 / 3)));
        var small = L.Fma(L.Mul(ax, x2), poly, ax);
        var r = L.Select(L.Less(ax, L.F(0.55f)), small, big);
        return L.Or(r, L.And(x, L.F(-0f))); // |r| with x's sign; NaN flows through exp
    }
}
