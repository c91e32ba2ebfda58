using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GraphNet.Runtime.Kernels;

/// <summary>
/// exp and log on 16 float lanes (Cephes' expf/logf: range reduction, a short polynomial,
/// exponent arithmetic on the bits), within 2 ulp. .NET 10's Vector512.Exp/Log measured about
/// ten times slower than scalar MathF.Exp on this machine (a lane-by-lane fallback), so
/// generated code uses these. Double lanes go through Math per lane.
/// </summary>
public static class VExp
{
    private const float Log2E = 1.44269504088896341f, C1 = 0.693359375f, C2 = -2.12194440e-4f;
    private const float MaxX = 88.7228391f, MinX = -87.3365448f, SqrtHalf = 0.707106781186547524f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        var c = Vector512.Min(Vector512.Max(x, Vector512.Create(MinX)), Vector512.Create(MaxX));
        // Round to nearest by adding 1.5·2²³: the integer then sits in the low mantissa bits.
        var t = Vector512.FusedMultiplyAdd(c, Vector512.Create(Log2E), Vector512.Create(12582912f));
        var n = t - Vector512.Create(12582912f);
        var r = c - n * Vector512.Create(C1) - n * Vector512.Create(C2);
        var r2 = r * r;
        var p = Vector512.Create(1.9875691500E-4f);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.3981999507E-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(8.3334519073E-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(4.1665795894E-2f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.6666665459E-1f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(5.0000001201E-1f));
        var y = Vector512.FusedMultiplyAdd(p, r2, r) + Vector512<float>.One;
        // y·2ⁿ as two halves, so n = 128 (x near 88.7) does not overflow the exponent field.
        var ni = t.AsInt32() - Vector512.Create(12582912f).AsInt32();
        var half = Vector512.ShiftRightArithmetic(ni, 1);
        var result = y * Vector512.ShiftLeft(half + Vector512.Create(127), 23).AsSingle() * Vector512.ShiftLeft(ni - half + Vector512.Create(127), 23).AsSingle();
        result = Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(MaxX)), Vector512.Create(float.PositiveInfinity), result);
        result = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(MinX)), Vector512<float>.Zero, result);
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), result, x); // NaN stays NaN
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Log(Vector512<float> x)
    {
        var bits = Vector512.Max(x, Vector512.Create(1.17549435e-38f)).AsInt32();
        var e = Vector512.ConvertToSingle(Vector512.ShiftRightLogical(bits, 23) - Vector512.Create(126));
        var m = ((bits & Vector512.Create(0x007FFFFF)) | Vector512.Create(0x3F000000)).AsSingle(); // mantissa in [0.5, 1)
        var small = Vector512.LessThan(m, Vector512.Create(SqrtHalf));
        e -= Vector512.ConditionalSelect(small, Vector512<float>.One, Vector512<float>.Zero);
        m = Vector512.ConditionalSelect(small, m + m, m) - Vector512<float>.One;
        var z = m * m;
        var p = Vector512.Create(7.0376836292E-2f);
        p = Vector512.FusedMultiplyAdd(p, m, Vector512.Create(-1.1514610310E-1f));
        p = Vector512.FusedMultiplyAdd(p, m, Vector512.Create(1.1676998740E-1f));
        p = Vector512.FusedMultiplyAdd(p, m, Vector512.Create(-1.2420140846E-1f));
        p = Vector512.FusedMultiplyAdd(p, m, Vector512.Create(1.4249322787E-1f));
        p = Vector512.FusedMultiplyAdd(p, m, Vector512.Create(-1.6668057665E-1f));
        p = Vector512.FusedMultiplyAdd(p, m, Vector512.Create(2.0000714765E-1f));
        p = Vector512.FusedMultiplyAdd(p, m, Vector512.Create(-2.4999993993E-1f));
        p = Vector512.FusedMultiplyAdd(p, m, Vector512.Create(3.3333331174E-1f));
        var y = p * m * z;
        y = Vector512.FusedMultiplyAdd(e, Vector512.Create(C2), y);
        y = Vector512.FusedMultiplyAdd(z, Vector512.Create(-0.5f), y);
        var result = m + y + e * Vector512.Create(C1);
        result = Vector512.ConditionalSelect(Vector512.Equals(x, Vector512<float>.Zero), Vector512.Create(float.NegativeInfinity), result);
        result = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), Vector512.Create(float.NaN), result);
        result = Vector512.ConditionalSelect(Vector512.Equals(x, Vector512.Create(float.PositiveInfinity)), x, result);
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), result, x);
    }

    public static Vector512<double> Exp(Vector512<double> x) => PerLane(x, Math.Exp);
    public static Vector512<double> Log(Vector512<double> x) => PerLane(x, Math.Log);

    private static Vector512<double> PerLane(Vector512<double> x, Func<double, double> f)
    {
        Span<double> t = stackalloc double[Vector512<double>.Count];
        x.CopyTo(t);
        for (int i = 0; i < t.Length; i++) t[i] = f(t[i]);
        return Vector512.Create<double>(t);
    }
}
