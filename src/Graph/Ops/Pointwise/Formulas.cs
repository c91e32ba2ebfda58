using static GraphNet.ScalarMath;

namespace GraphNet;

/// <summary>A pointwise function of one argument (and an optional parameter): its formula and gradient rule.</summary>
public interface IUnaryFormula
{
    /// <summary>The op's name in the text form.</summary>
    static abstract string Name { get; }
    /// <summary>The parameter's name when the function has one (leaky_relu: "alpha").</summary>
    static virtual string? ParamName => null;
    /// <summary>The formula, in the primitives of <see cref="IScalarOps{V, M}"/>; every backend renders it.</summary>
    static abstract Num<V, M, O> Apply<V, M, O>(Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M>;
    /// <summary>The gradient rule in graph ops: (x, y, dy, parameter) to dx, or null where none flows.</summary>
    static abstract Tensor? Gradient(Tensor x, Tensor y, Tensor dy, double p);
}

/// <summary>A pointwise function of two arguments (and an optional parameter): its formula and gradient rule.</summary>
public interface IBinaryFormula
{
    static abstract string Name { get; }
    static virtual string? ParamName => null;
    static abstract Num<V, M, O> Apply<V, M, O>(Num<V, M, O> a, Num<V, M, O> b, Num<V, M, O> p) where O : IScalarOps<V, M>;
    /// <summary>(da, db) before un-broadcasting; a side that is not needed may be null.</summary>
    static abstract (Tensor?, Tensor?) Gradient(BinaryGradient g);
}

/// <summary>What a binary entry's gradient rule sees: the inputs, output and its gradient, the parameter, and which sides are needed.</summary>
public readonly record struct BinaryGradient(Tensor A, Tensor B, Tensor Y, Tensor Dy, double P, bool NeedA, bool NeedB);

/// <summary>
/// The pointwise table: each function once, its formula beside its gradient rule. The formulas
/// follow PyTorch's numerics, NaN included: relu, maximum and minimum propagate NaN; sign(NaN)
/// is 0; the gradient helpers are PyTorch's backward formulas (relu's is threshold_backward,
/// which passes dy where the output is not ≤ 0). A new function is one struct here, one line
/// in <see cref="Pointwise"/> and its row in the tests.
/// </summary>
public static class Formulas
{
    public struct Neg : IUnaryFormula
    {
        public static string Name => "neg";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> => -x;
        public static Tensor? Gradient(Tensor x, Tensor y, Tensor dy, double p) => -dy;
    }

    public struct Exp : IUnaryFormula
    {
        public static string Name => "exp";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> => ScalarMath.Exp(x);
        public static Tensor? Gradient(Tensor x, Tensor y, Tensor dy, double p) => dy * y;
    }

    public struct Log : IUnaryFormula
    {
        public static string Name => "log";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> => ScalarMath.Log(x);
        public static Tensor? Gradient(Tensor x, Tensor y, Tensor dy, double p) => dy / x;
    }

    public struct Sqrt : IUnaryFormula
    {
        public static string Name => "sqrt";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> => ScalarMath.Sqrt(x);
        public static Tensor? Gradient(Tensor x, Tensor y, Tensor dy, double p) => dy * 0.5 / y;
    }

    public struct Rsqrt : IUnaryFormula
    {
        public static string Name => "rsqrt";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> => 1 / ScalarMath.Sqrt(x);
        public static Tensor? Gradient(Tensor x, Tensor y, Tensor dy, double p) => dy * -0.5 * y * y * y;
    }

    public struct Abs : IUnaryFormula
    {
        public static string Name => "abs";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> => ScalarMath.Abs(x);
        public static Tensor? Gradient(Tensor x, Tensor y, Tensor dy, double p) => dy * F.Sign(x);
    }

    /// <summary>1, −1 or 0 (also for NaN and −0, as PyTorch's (0 &lt; x) − (x &lt; 0)).</summary>
    public struct Sign : IUnaryFormula
    {
        public static string Name => "sign";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> =>
            Where(x > 0, 1, Where(x < 0, -1, 0));
        public static Tensor? Gradient(Tensor x, Tensor y, Tensor dy, double p) => null;
    }

    public struct Square : IUnaryFormula
    {
        public static string Name => "square";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> => x * x;
        public static Tensor? Gradient(Tensor x, Tensor y, Tensor dy, double p) => dy * 2.0 * x;
    }

    public struct Sigmoid : IUnaryFormula
    {
        public static string Name => "sigmoid";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> => 1 / (1 + ScalarMath.Exp(-x));
        public static Tensor? Gradient(Tensor x, Tensor y, Tensor dy, double p) => F.Binary(Pointwise.SigmoidGrad, dy, y);
    }

    public struct Tanh : IUnaryFormula
    {
        public static string Name => "tanh";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> => ScalarMath.Tanh(x);
        public static Tensor? Gradient(Tensor x, Tensor y, Tensor dy, double p) => F.Binary(Pointwise.TanhGrad, dy, y);
    }

    /// <summary>max(x, 0): NaN stays NaN, as PyTorch's relu.</summary>
    public struct Relu : IUnaryFormula
    {
        public static string Name => "relu";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> => Max(x, 0);
        public static Tensor? Gradient(Tensor x, Tensor y, Tensor dy, double p) => F.Binary(Pointwise.ReluGrad, dy, y);
    }

    public struct LeakyRelu : IUnaryFormula
    {
        public static string Name => "leaky_relu";
        public static string? ParamName => "alpha";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> => Where(x > 0, x, x * p);
        public static Tensor? Gradient(Tensor x, Tensor y, Tensor dy, double p) => F.Binary(Pointwise.LeakyReluGrad, dy, x, p);
    }

    /// <summary>log(1 + exp(x)) as max(x, 0) + log(1 + exp(−|x|)): stable for both signs (the binary cross entropy uses it).</summary>
    public struct Softplus : IUnaryFormula
    {
        public static string Name => "softplus";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> =>
            Max(x, 0) + ScalarMath.Log(1 + ScalarMath.Exp(-ScalarMath.Abs(x)));
        public static Tensor? Gradient(Tensor x, Tensor y, Tensor dy, double p) => F.Binary(Pointwise.SoftplusGrad, dy, x);
    }

    /// <summary>log(1 + x), accurate for small x: log(u)·x/(u − 1) with u = 1 + x cancels u's rounding (Goldberg).</summary>
    public struct Log1p : IUnaryFormula
    {
        public static string Name => "log1p";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> => Log1pOf(x);
        public static Tensor? Gradient(Tensor x, Tensor y, Tensor dy, double p) => dy / (x + 1.0);
    }

    /// <summary>exp(x) − 1, accurate for small x: (u − 1)·x/log(u) with u = exp(x) (Kahan).</summary>
    public struct Expm1 : IUnaryFormula
    {
        public static string Name => "expm1";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> => Expm1Of(x);
        public static Tensor? Gradient(Tensor x, Tensor y, Tensor dy, double p) => dy * (y + 1.0);
    }

    /// <summary>
    /// The error function: its Taylor series below |x| = 0.5 (to double precision), above it
    /// 1 − erfc with Numerical Recipes' Chebyshev fit of erfc (relative error below 1.2e-7, so about
    /// an ulp in float32; float64 values are good to that much, not to double precision).
    /// </summary>
    public struct Erf : IUnaryFormula
    {
        public static string Name => "erf";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> => ErfOf(x);
        public static Tensor? Gradient(Tensor x, Tensor y, Tensor dy, double p) => dy * (2 / Math.Sqrt(Math.PI)) * F.Exp(-(x * x));
    }

    /// <summary>ELU: x where x &gt; 0, else alpha·(exp(x) − 1).</summary>
    public struct Elu : IUnaryFormula
    {
        public static string Name => "elu";
        public static string? ParamName => "alpha";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> => Where(x > 0, x, p * Expm1Of(x));
        public static Tensor? Gradient(Tensor x, Tensor y, Tensor dy, double p) => F.Where(F.Greater(x, 0.0), dy, dy * (y + p));
    }

    /// <summary>SELU: scale·(max(0, x) + min(0, alpha·(exp(x) − 1))) with PyTorch's constants.</summary>
    public struct Selu : IUnaryFormula
    {
        public const double Alpha = 1.6732632423543772848170429916717, Scale = 1.0507009873554804934193349852946;
        public static string Name => "selu";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> =>
            Where(x > 0, Scale * x, (Scale * Alpha) * Expm1Of(x));
        public static Tensor? Gradient(Tensor x, Tensor y, Tensor dy, double p) =>
            F.Where(F.Greater(x, 0.0), dy * Scale, dy * (y + Scale * Alpha));
    }

    /// <summary>GELU, exact: x·Φ(x) = x/2·(1 + erf(x/√2)).</summary>
    public struct Gelu : IUnaryFormula
    {
        public static string Name => "gelu";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> =>
            0.5 * x * (1 + ErfOf(x * Math.Sqrt(0.5)));
        // Φ(x) + x·φ(x)
        public static Tensor? Gradient(Tensor x, Tensor y, Tensor dy, double p) =>
            dy * (0.5 * (F.Erf(x * Math.Sqrt(0.5)) + 1.0) + x * (1 / Math.Sqrt(2 * Math.PI)) * F.Exp(x * x * -0.5));
    }

    /// <summary>GELU with PyTorch's tanh approximation: x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    public struct GeluTanh : IUnaryFormula
    {
        private static readonly double K = Math.Sqrt(2 / Math.PI);
        public static string Name => "gelu_tanh";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> =>
            0.5 * x * (1 + ScalarMath.Tanh(K * (x + 0.044715 * x * x * x)));
        public static Tensor? Gradient(Tensor x, Tensor y, Tensor dy, double p)
        {
            var t = F.Tanh((x + x * x * x * 0.044715) * K);
            return dy * (0.5 * (t + 1.0) + x * 0.5 * (1.0 - t * t) * K * (x * x * (3 * 0.044715) + 1.0));
        }
    }

    /// <summary>SiLU (swish): x·sigmoid(x).</summary>
    public struct Silu : IUnaryFormula
    {
        public static string Name => "silu";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> => x / (1 + ScalarMath.Exp(-x));
        public static Tensor? Gradient(Tensor x, Tensor y, Tensor dy, double p)
        {
            var s = F.Sigmoid(x);
            return dy * s * (x * (1.0 - s) + 1.0);
        }
    }

    /// <summary>Mish: x·tanh(softplus(x)).</summary>
    public struct Mish : IUnaryFormula
    {
        public static string Name => "mish";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> =>
            x * ScalarMath.Tanh(Softplus.Apply(x, p));
        public static Tensor? Gradient(Tensor x, Tensor y, Tensor dy, double p)
        {
            var t = F.Tanh(F.Softplus(x));
            return dy * (t + x * (1.0 - t * t) * F.Sigmoid(x));
        }
    }

    /// <summary>Softsign: x / (1 + |x|).</summary>
    public struct Softsign : IUnaryFormula
    {
        public static string Name => "softsign";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> => x / (1 + ScalarMath.Abs(x));
        public static Tensor? Gradient(Tensor x, Tensor y, Tensor dy, double p) => dy / F.Square(F.Abs(x) + 1.0);
    }

    /// <summary>Hardsigmoid: relu6(x + 3) / 6; its gradient 1/6 strictly inside (−3, 3), as PyTorch's.</summary>
    public struct Hardsigmoid : IUnaryFormula
    {
        public static string Name => "hardsigmoid";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> => Min(Max(x + 3, 0), 6) / 6;
        public static Tensor? Gradient(Tensor x, Tensor y, Tensor dy, double p) =>
            F.Where(F.Greater(x, -3.0), F.Where(F.Less(x, 3.0), dy * (1.0 / 6), F.ZerosLike(dy)), F.ZerosLike(dy));
    }

    /// <summary>Hardswish: x·relu6(x + 3) / 6; its gradient 0 up to −3, (2x + 3)/6 below 3, then 1, as PyTorch's.</summary>
    public struct Hardswish : IUnaryFormula
    {
        public static string Name => "hardswish";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> => x * Min(Max(x + 3, 0), 6) / 6;
        public static Tensor? Gradient(Tensor x, Tensor y, Tensor dy, double p) =>
            F.Where(F.LessEqual(x, -3.0), F.ZerosLike(dy), F.Where(F.Less(x, 3.0), dy * (x * 2.0 + 3.0) * (1.0 / 6), dy));
    }

    /// <summary>The identity whose gradient is none (TF's stop_gradient, PyTorch's detach).</summary>
    public struct StopGradient : IUnaryFormula
    {
        public static string Name => "stop_gradient";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> => x;
        public static Tensor? Gradient(Tensor x, Tensor y, Tensor dy, double p) => null;
    }

    public struct Add : IBinaryFormula
    {
        public static string Name => "add";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> a, Num<V, M, O> b, Num<V, M, O> p) where O : IScalarOps<V, M> => a + b;
        public static (Tensor?, Tensor?) Gradient(BinaryGradient g) => (g.Dy, g.Dy);
    }

    public struct Sub : IBinaryFormula
    {
        public static string Name => "sub";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> a, Num<V, M, O> b, Num<V, M, O> p) where O : IScalarOps<V, M> => a - b;
        public static (Tensor?, Tensor?) Gradient(BinaryGradient g) => (g.Dy, g.NeedB ? -g.Dy : null);
    }

    public struct Mul : IBinaryFormula
    {
        public static string Name => "mul";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> a, Num<V, M, O> b, Num<V, M, O> p) where O : IScalarOps<V, M> => a * b;
        public static (Tensor?, Tensor?) Gradient(BinaryGradient g) => (g.NeedA ? g.Dy * g.B : null, g.NeedB ? g.Dy * g.A : null);
    }

    public struct Div : IBinaryFormula
    {
        public static string Name => "div";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> a, Num<V, M, O> b, Num<V, M, O> p) where O : IScalarOps<V, M> => a / b;
        public static (Tensor?, Tensor?) Gradient(BinaryGradient g) => (g.NeedA ? g.Dy / g.B : null, g.NeedB ? -(g.Dy * g.Y) / g.B : null);
    }

    public struct Pow : IBinaryFormula
    {
        public static string Name => "pow";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> a, Num<V, M, O> b, Num<V, M, O> p) where O : IScalarOps<V, M> => ScalarMath.Pow(a, b);
        public static (Tensor?, Tensor?) Gradient(BinaryGradient g) =>
            (g.NeedA ? g.Dy * g.B * F.Pow(g.A, g.B - 1.0) : null, g.NeedB ? g.Dy * g.Y * F.Log(g.A) : null);
    }

    public struct Maximum : IBinaryFormula
    {
        public static string Name => "maximum";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> a, Num<V, M, O> b, Num<V, M, O> p) where O : IScalarOps<V, M> => Max(a, b);
        public static (Tensor?, Tensor?) Gradient(BinaryGradient g)
        {
            var m = F.GreaterEqual(g.A, g.B); var z = F.ZerosLike(g.Dy);
            return (g.NeedA ? F.Where(m, g.Dy, z) : null, g.NeedB ? F.Where(m, z, g.Dy) : null);
        }
    }

    public struct Minimum : IBinaryFormula
    {
        public static string Name => "minimum";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> a, Num<V, M, O> b, Num<V, M, O> p) where O : IScalarOps<V, M> => Min(a, b);
        public static (Tensor?, Tensor?) Gradient(BinaryGradient g)
        {
            var m = F.LessEqual(g.A, g.B); var z = F.ZerosLike(g.Dy);
            return (g.NeedA ? F.Where(m, g.Dy, z) : null, g.NeedB ? F.Where(m, z, g.Dy) : null);
        }
    }

    /// <summary>
    /// lerp(a, b; weight) = a + weight·(b − a), computed as PyTorch does (from b's side when the
    /// weight is at least ½, so the ends are exact). Optimizers keep their running averages with
    /// it, as PyTorch's do: one pass where β·m + (1−β)·g takes three.
    /// </summary>
    public struct Lerp : IBinaryFormula
    {
        public static string Name => "lerp";
        public static string? ParamName => "weight";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> a, Num<V, M, O> b, Num<V, M, O> p) where O : IScalarOps<V, M> =>
            Where(p < 0.5, a + p * (b - a), b - (b - a) * (1 - p));
        public static (Tensor?, Tensor?) Gradient(BinaryGradient g) => (g.NeedA ? g.Dy * (1 - g.P) : null, g.NeedB ? g.Dy * g.P : null);
    }

    // Gradient helpers: each is one pointwise op, so backward masks fuse into their neighbours.

    /// <summary>relu_grad(dy, y): PyTorch's threshold_backward, 0 where y ≤ 0, else dy (NaN outputs pass dy).</summary>
    public struct ReluGrad : IBinaryFormula
    {
        public static string Name => "relu_grad";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> dy, Num<V, M, O> y, Num<V, M, O> p) where O : IScalarOps<V, M> => Where(y <= 0, 0, dy);
        public static (Tensor?, Tensor?) Gradient(BinaryGradient g) => NoSecondOrder(g.Y);
    }

    /// <summary>leaky_relu_grad(dy, x): dy where x &gt; 0, else dy·alpha.</summary>
    public struct LeakyReluGrad : IBinaryFormula
    {
        public static string Name => "leaky_relu_grad";
        public static string? ParamName => "alpha";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> dy, Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> =>
            Where(x > 0, dy, dy * p);
        public static (Tensor?, Tensor?) Gradient(BinaryGradient g) => NoSecondOrder(g.Y);
    }

    /// <summary>sigmoid_grad(dy, y) = dy·(1 − y)·y.</summary>
    public struct SigmoidGrad : IBinaryFormula
    {
        public static string Name => "sigmoid_grad";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> dy, Num<V, M, O> y, Num<V, M, O> p) where O : IScalarOps<V, M> => dy * (1 - y) * y;
        public static (Tensor?, Tensor?) Gradient(BinaryGradient g) => NoSecondOrder(g.Y);
    }

    /// <summary>tanh_grad(dy, y) = dy·(1 − y²).</summary>
    public struct TanhGrad : IBinaryFormula
    {
        public static string Name => "tanh_grad";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> dy, Num<V, M, O> y, Num<V, M, O> p) where O : IScalarOps<V, M> => dy * (1 - y * y);
        public static (Tensor?, Tensor?) Gradient(BinaryGradient g) => NoSecondOrder(g.Y);
    }

    /// <summary>softplus_grad(dy, x) = dy·sigmoid(x), the derivative of softplus.</summary>
    public struct SoftplusGrad : IBinaryFormula
    {
        public static string Name => "softplus_grad";
        public static Num<V, M, O> Apply<V, M, O>(Num<V, M, O> dy, Num<V, M, O> x, Num<V, M, O> p) where O : IScalarOps<V, M> =>
            dy / (1 + ScalarMath.Exp(-x));
        public static (Tensor?, Tensor?) Gradient(BinaryGradient g) => NoSecondOrder(g.Y);
    }

    private static Num<V, M, O> Log1pOf<V, M, O>(Num<V, M, O> x) where O : IScalarOps<V, M>
    {
        var u = x + 1;
        return Where(Eq(u, 1), x, Where(Eq(u, double.PositiveInfinity), u, ScalarMath.Log(u) * (x / (u - 1))));
    }

    private static Num<V, M, O> Expm1Of<V, M, O>(Num<V, M, O> x) where O : IScalarOps<V, M>
    {
        var u = ScalarMath.Exp(x);
        var um1 = u - 1;
        return Where(Eq(u, 1), x, Where(Eq(um1, -1), -1, Where(Eq(u, double.PositiveInfinity), u, um1 * (x / ScalarMath.Log(u)))));
    }

    private static Num<V, M, O> ErfOf<V, M, O>(Num<V, M, O> x) where O : IScalarOps<V, M>
    {
        // Below 0.5: 2/√π · Σ (−1)ⁿ x²ⁿ⁺¹ / (n!(2n + 1)), eleven terms (the last below 1e-16 of the first).
        var x2 = x * x;
        Num<V, M, O> series = 1.0 / (10 * 9 * 8 * 7 * 6 * 5 * 4 * 3 * 2 * 21.0);
        double factorial = 10 * 9 * 8 * 7 * 6 * 5 * 4 * 3 * 2;
        for (int n = 9; n >= 0; n--)
        {
            factorial /= n + 1;
            series = (n % 2 == 0 ? 1.0 : -1.0) / (factorial * (2 * n + 1)) + x2 * series;
        }
        var small = x * series * (2 / Math.Sqrt(Math.PI));
        // Above: erfc(|x|) = t·exp(−x² − 1.26551223 + t·P(t)), t = 1/(1 + |x|/2) (Numerical Recipes' erfcc).
        var z = ScalarMath.Abs(x);
        var t = 1 / (1 + 0.5 * z);
        var poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807
            + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
        var erfc = t * ScalarMath.Exp(poly - x2);
        return Where(z < 0.5, small, Where(x > 0, 1 - erfc, erfc - 1));
    }

    private static (Tensor?, Tensor?) NoSecondOrder(Tensor y) =>
        throw new GraphException($"second-order gradients through '{y.Node.Op.Name}' are not supported");
}
