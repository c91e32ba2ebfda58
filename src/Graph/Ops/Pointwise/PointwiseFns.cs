using System.Numerics;

namespace GraphNet;

/// <summary>An entry of the pointwise table: a unary scalar function with its gradient rule.</summary>
public abstract class UnaryFn
{
    public required string Name { get; init; }
    /// <summary>Name of the parameter when the function has one (leaky_relu: "alpha").</summary>
    public string? ParamName { get; init; }
    /// <summary>The gradient rule: (x, y, dy, param) to dx, in graph ops.</summary>
    public required Func<Tensor, Tensor, Tensor, double, Tensor?> Grad { get; init; }
    /// <summary>C# rendering of one element: {0} is x, {p} the parameter, {T} the element type.</summary>
    public required string Scalar { get; init; }
    /// <summary>C# rendering over Vector512&lt;T&gt; (same placeholders); VMath holds helpers.</summary>
    public required string Vector { get; init; }
    public abstract double Apply(double x, double p);
    public abstract void Map<T>(ReadOnlySpan<T> x, Span<T> y, T p) where T : IFloatingPointIeee754<T>;
    public override string ToString() => Name;
}

internal sealed class UnaryFn<TF> : UnaryFn where TF : struct, IUnaryScalar
{
    public override double Apply(double x, double p) => TF.Apply(x, p);
    public override void Map<T>(ReadOnlySpan<T> x, Span<T> y, T p)
    {
        for (int i = 0; i < y.Length; i++) y[i] = TF.Apply(x[i], p);
    }
}

/// <summary>An entry of the pointwise table: a binary scalar function with its gradient rule.</summary>
public abstract class BinaryFn
{
    public required string Name { get; init; }
    public string? ParamName { get; init; }
    /// <summary>The gradient rule: (a, b, y, dy, param) to (da, db) before un-broadcasting.</summary>
    public required Func<Tensor, Tensor, Tensor, Tensor, double, (Tensor?, Tensor?)> Grad { get; init; }
    /// <summary>C# rendering of one element: {0} and {1} are the operands, {p} the parameter, {T} the element type.</summary>
    public required string Scalar { get; init; }
    /// <summary>C# rendering over Vector512&lt;T&gt;.</summary>
    public required string Vector { get; init; }
    public abstract double Apply(double a, double b, double p);
    public abstract void Map<T>(T[] a, int[] aShape, T[] b, int[] bShape, T[] y, int[] yShape, T p) where T : IFloatingPointIeee754<T>;
    public override string ToString() => Name;
}

internal sealed class BinaryFn<TF> : BinaryFn where TF : struct, IBinaryScalar
{
    public override double Apply(double a, double b, double p) => TF.Apply(a, b, p);

    public override void Map<T>(T[] a, int[] aShape, T[] b, int[] bShape, T[] y, int[] yShape, T p)
    {
        if (a.Length == y.Length && b.Length == y.Length) { for (int i = 0; i < y.Length; i++) y[i] = TF.Apply(a[i], b[i], p); return; }
        if (b.Length == 1 && a.Length == y.Length) { T bv = b[0]; for (int i = 0; i < y.Length; i++) y[i] = TF.Apply(a[i], bv, p); return; }
        if (a.Length == 1 && b.Length == y.Length) { T av = a[0]; for (int i = 0; i < y.Length; i++) y[i] = TF.Apply(av, b[i], p); return; }
        var v = new Visitor<T> { A = a, B = b, Y = y, P = p };
        new BroadcastPlan(yShape, aShape, bShape).ForEachRun(ref v);
    }

    private struct Visitor<T> : IRunVisitor where T : IFloatingPointIeee754<T>
    {
        public T[] A, B, Y; public T P;
        public void Run(int o, ReadOnlySpan<int> offs, ReadOnlySpan<int> s, int n)
        {
            int ia = offs[0], ib = offs[1], sa = s[0], sb = s[1];
            for (int j = 0; j < n; j++, ia += sa, ib += sb) Y[o + j] = TF.Apply(A[ia], B[ib], P);
        }
    }
}

/// <summary>
/// The pointwise table: every pointwise function once, with its reference function (generic
/// over float and double) and its gradient rule. Fusion and code generation read this table.
/// </summary>
public static class Pointwise
{
    private static UnaryFn U<TF>(string name, string scalar, string vector, Func<Tensor, Tensor, Tensor, double, Tensor?> grad, string? param = null)
        where TF : struct, IUnaryScalar => new UnaryFn<TF> { Name = name, Grad = grad, ParamName = param, Scalar = scalar, Vector = vector };

    private static BinaryFn B<TF>(string name, string scalar, string vector, Func<Tensor, Tensor, Tensor, Tensor, double, (Tensor?, Tensor?)> grad, string? param = null)
        where TF : struct, IBinaryScalar => new BinaryFn<TF> { Name = name, Grad = grad, ParamName = param, Scalar = scalar, Vector = vector };

    // Gradient helpers: each is one pointwise op, so backward masks fuse into their neighbours.
    public static readonly BinaryFn ReluGrad = B<ReluGradF>("relu_grad", "({1} > {T}.Zero ? {0} : {T}.Zero)", "Vector512.ConditionalSelect(Vector512.GreaterThan({1}, Vector512<{T}>.Zero), {0}, Vector512<{T}>.Zero)", NoSecondOrder);
    public static readonly BinaryFn LeakyReluGrad = B<LeakyReluGradF>("leaky_relu_grad", "({1} > {T}.Zero ? {0} : {0} * {p})", "Vector512.ConditionalSelect(Vector512.GreaterThan({1}, Vector512<{T}>.Zero), {0}, {0} * {p})", NoSecondOrder, "alpha");
    public static readonly BinaryFn SigmoidGrad = B<SigmoidGradF>("sigmoid_grad", "({0} * {1} * ({T}.One - {1}))", "({0} * {1} * (Vector512<{T}>.One - {1}))", NoSecondOrder);
    public static readonly BinaryFn TanhGrad = B<TanhGradF>("tanh_grad", "({0} * ({T}.One - {1} * {1}))", "({0} * (Vector512<{T}>.One - {1} * {1}))", NoSecondOrder);
    /// <summary>dy * sigmoid(x): the derivative of softplus.</summary>
    public static readonly BinaryFn SigmoidGradFromX = B<SoftplusGradF>("softplus_grad", "({0} / ({T}.One + {T}.Exp(-{1})))", "({0} / (Vector512<{T}>.One + VExp.Exp(-{1})))", NoSecondOrder);

    public static readonly UnaryFn Neg = U<NegF>("neg", "(-{0})", "(-{0})", (x, y, dy, p) => -dy);
    public static readonly UnaryFn Exp = U<ExpF>("exp", "{T}.Exp({0})", "VExp.Exp({0})", (x, y, dy, p) => dy * y);
    public static readonly UnaryFn Log = U<LogF>("log", "{T}.Log({0})", "VExp.Log({0})", (x, y, dy, p) => dy / x);
    public static readonly UnaryFn Sqrt = U<SqrtF>("sqrt", "{T}.Sqrt({0})", "Vector512.Sqrt({0})", (x, y, dy, p) => dy * 0.5 / y);
    public static readonly UnaryFn Rsqrt = U<RsqrtF>("rsqrt", "({T}.One / {T}.Sqrt({0}))", "(Vector512<{T}>.One / Vector512.Sqrt({0}))", (x, y, dy, p) => dy * -0.5 * y * y * y);
    public static readonly UnaryFn Abs = U<AbsF>("abs", "{T}.Abs({0})", "Vector512.Abs({0})", (x, y, dy, p) => dy * F.Sign(x));
    public static readonly UnaryFn Sign = U<SignF>("sign", "({0} > {T}.Zero ? {T}.One : {0} < {T}.Zero ? -{T}.One : {T}.Zero)", "VMath.Sign({0})", (x, y, dy, p) => null);
    public static readonly UnaryFn Square = U<SquareF>("square", "({0} * {0})", "({0} * {0})", (x, y, dy, p) => dy * 2.0 * x);
    public static readonly UnaryFn Sigmoid = U<SigmoidF>("sigmoid", "({T}.One / ({T}.One + {T}.Exp(-{0})))", "(Vector512<{T}>.One / (Vector512<{T}>.One + VExp.Exp(-{0})))", (x, y, dy, p) => F.Binary(SigmoidGrad, dy, y));
    public static readonly UnaryFn Tanh = U<TanhF>("tanh", "{T}.Tanh({0})", "VMath.Tanh({0})", (x, y, dy, p) => F.Binary(TanhGrad, dy, y));
    public static readonly UnaryFn Relu = U<ReluF>("relu", "({0} > {T}.Zero ? {0} : {T}.Zero)", "Vector512.Max({0}, Vector512<{T}>.Zero)", (x, y, dy, p) => F.Binary(ReluGrad, dy, y));
    public static readonly UnaryFn LeakyRelu = U<LeakyReluF>("leaky_relu", "({0} > {T}.Zero ? {0} : {0} * {p})", "Vector512.ConditionalSelect(Vector512.GreaterThan({0}, Vector512<{T}>.Zero), {0}, {0} * {p})", (x, y, dy, p) => F.Binary(LeakyReluGrad, dy, x, p), "alpha");
    /// <summary>softplus, log(1 + exp(x)) computed stably; used by the binary cross entropy.</summary>
    public static readonly UnaryFn Softplus = U<Log1pExpF>("softplus", "VMath.Softplus({0})", "VMath.Softplus({0})", (x, y, dy, p) => F.Binary(SigmoidGradFromX, dy, x));

    public static readonly BinaryFn Add = B<AddF>("add", "({0} + {1})", "({0} + {1})", (a, b, y, dy, p) => (dy, dy));
    public static readonly BinaryFn Sub = B<SubF>("sub", "({0} - {1})", "({0} - {1})", (a, b, y, dy, p) => (dy, -dy));
    public static readonly BinaryFn Mul = B<MulF>("mul", "({0} * {1})", "({0} * {1})", (a, b, y, dy, p) => (dy * b, dy * a));
    public static readonly BinaryFn Div = B<DivF>("div", "({0} / {1})", "({0} / {1})", (a, b, y, dy, p) => (dy / b, -(dy * y) / b));
    public static readonly BinaryFn Pow = B<PowF>("pow", "{T}.Pow({0}, {1})", "VMath.Pow({0}, {1})", (a, b, y, dy, p) => (dy * b * F.Pow(a, b - 1.0), dy * y * F.Log(a)));
    public static readonly BinaryFn Maximum = B<MaximumF>("maximum", "({0} >= {1} ? {0} : {1})", "Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual({0}, {1}), {0}, {1})", (a, b, y, dy, p) =>
        { var m = F.GreaterEqual(a, b); var z = F.ZerosLike(dy); return (F.Where(m, dy, z), F.Where(m, z, dy)); });
    public static readonly BinaryFn Minimum = B<MinimumF>("minimum", "({0} <= {1} ? {0} : {1})", "Vector512.ConditionalSelect(Vector512.LessThanOrEqual({0}, {1}), {0}, {1})", (a, b, y, dy, p) =>
        { var m = F.LessEqual(a, b); var z = F.ZerosLike(dy); return (F.Where(m, dy, z), F.Where(m, z, dy)); });

    private static (Tensor?, Tensor?) NoSecondOrder(Tensor a, Tensor b, Tensor y, Tensor dy, double p) =>
        throw new GraphException($"second-order gradients through '{y.Node.Op.Name}' are not supported");

    public static IReadOnlyList<UnaryFn> Unary { get; } = [Neg, Exp, Log, Sqrt, Rsqrt, Abs, Sign, Square, Sigmoid, Tanh, Relu, LeakyRelu, Softplus];
    public static IReadOnlyList<BinaryFn> Binary { get; } = [Add, Sub, Mul, Div, Pow, Maximum, Minimum, ReluGrad, LeakyReluGrad, SigmoidGrad, TanhGrad, SigmoidGradFromX];
}

#pragma warning disable CS1591
public struct SoftplusGradF : IBinaryScalar { public static T Apply<T>(T dy, T x, T p) where T : IFloatingPointIeee754<T> => dy / (T.One + T.Exp(-x)); }
#pragma warning restore CS1591
