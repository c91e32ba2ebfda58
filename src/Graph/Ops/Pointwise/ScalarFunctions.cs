using System.Numerics;

namespace GraphNet;

/// <summary>A scalar function of one argument and an optional parameter (leaky ReLU's slope).</summary>
public interface IUnaryScalar
{
    static abstract T Apply<T>(T x, T p) where T : IFloatingPointIeee754<T>;
}

/// <summary>A scalar function of two arguments and an optional parameter.</summary>
public interface IBinaryScalar
{
    static abstract T Apply<T>(T a, T b, T p) where T : IFloatingPointIeee754<T>;
}

// The scalar functions. Each is written once, generic over float and double; the backends
// render the same formulas (see Pointwise for the table that ties name, function and gradient).
#pragma warning disable CS1591
public struct NegF : IUnaryScalar { public static T Apply<T>(T x, T p) where T : IFloatingPointIeee754<T> => -x; }
public struct ExpF : IUnaryScalar { public static T Apply<T>(T x, T p) where T : IFloatingPointIeee754<T> => T.Exp(x); }
public struct LogF : IUnaryScalar { public static T Apply<T>(T x, T p) where T : IFloatingPointIeee754<T> => T.Log(x); }
public struct SqrtF : IUnaryScalar { public static T Apply<T>(T x, T p) where T : IFloatingPointIeee754<T> => T.Sqrt(x); }
public struct RsqrtF : IUnaryScalar { public static T Apply<T>(T x, T p) where T : IFloatingPointIeee754<T> => T.One / T.Sqrt(x); }
public struct AbsF : IUnaryScalar { public static T Apply<T>(T x, T p) where T : IFloatingPointIeee754<T> => T.Abs(x); }
public struct SignF : IUnaryScalar { public static T Apply<T>(T x, T p) where T : IFloatingPointIeee754<T> => x > T.Zero ? T.One : x < T.Zero ? -T.One : T.Zero; }
public struct SquareF : IUnaryScalar { public static T Apply<T>(T x, T p) where T : IFloatingPointIeee754<T> => x * x; }
public struct SigmoidF : IUnaryScalar { public static T Apply<T>(T x, T p) where T : IFloatingPointIeee754<T> => T.One / (T.One + T.Exp(-x)); }
public struct TanhF : IUnaryScalar { public static T Apply<T>(T x, T p) where T : IFloatingPointIeee754<T> => T.Tanh(x); }
public struct ReluF : IUnaryScalar { public static T Apply<T>(T x, T p) where T : IFloatingPointIeee754<T> => x > T.Zero ? x : T.Zero; }
public struct LeakyReluF : IUnaryScalar { public static T Apply<T>(T x, T p) where T : IFloatingPointIeee754<T> => x > T.Zero ? x : x * p; }
public struct Log1pExpF : IUnaryScalar { public static T Apply<T>(T x, T p) where T : IFloatingPointIeee754<T> => x > T.Zero ? x + T.Log(T.One + T.Exp(-x)) : T.Log(T.One + T.Exp(x)); }

public struct AddF : IBinaryScalar { public static T Apply<T>(T a, T b, T p) where T : IFloatingPointIeee754<T> => a + b; }
public struct SubF : IBinaryScalar { public static T Apply<T>(T a, T b, T p) where T : IFloatingPointIeee754<T> => a - b; }
public struct MulF : IBinaryScalar { public static T Apply<T>(T a, T b, T p) where T : IFloatingPointIeee754<T> => a * b; }
public struct DivF : IBinaryScalar { public static T Apply<T>(T a, T b, T p) where T : IFloatingPointIeee754<T> => a / b; }
public struct PowF : IBinaryScalar { public static T Apply<T>(T a, T b, T p) where T : IFloatingPointIeee754<T> => T.Pow(a, b); }
public struct MaximumF : IBinaryScalar { public static T Apply<T>(T a, T b, T p) where T : IFloatingPointIeee754<T> => a >= b ? a : b; }
public struct MinimumF : IBinaryScalar { public static T Apply<T>(T a, T b, T p) where T : IFloatingPointIeee754<T> => a <= b ? a : b; }
/// <summary>relu_grad(dy, y): dy where the ReLU output was positive.</summary>
public struct ReluGradF : IBinaryScalar { public static T Apply<T>(T dy, T y, T p) where T : IFloatingPointIeee754<T> => y > T.Zero ? dy : T.Zero; }
public struct LeakyReluGradF : IBinaryScalar { public static T Apply<T>(T dy, T x, T p) where T : IFloatingPointIeee754<T> => x > T.Zero ? dy : dy * p; }
public struct SigmoidGradF : IBinaryScalar { public static T Apply<T>(T dy, T y, T p) where T : IFloatingPointIeee754<T> => dy * y * (T.One - y); }
public struct TanhGradF : IBinaryScalar { public static T Apply<T>(T dy, T y, T p) where T : IFloatingPointIeee754<T> => dy * (T.One - y * y); }
#pragma warning restore CS1591
