using System.Numerics;

namespace GraphNet;

/// <summary>
/// Runs code that needs a table entry's formula as a type (a generic kernel instantiated for
/// it), given the entry as an object: the entry calls back with its formula type.
/// </summary>
public interface IUnaryDispatch<TResult>
{
    TResult Invoke<TF>() where TF : struct, IUnaryFormula;
}

/// <inheritdoc cref="IUnaryDispatch{TResult}"/>
public interface IBinaryDispatch<TResult>
{
    TResult Invoke<TF>() where TF : struct, IBinaryFormula;
}

/// <summary>An entry of the pointwise table: a unary function (see <see cref="Formulas"/>).</summary>
public abstract class UnaryFn
{
    public abstract string Name { get; }
    /// <summary>Name of the parameter when the function has one (leaky_relu: "alpha").</summary>
    public abstract string? ParamName { get; }
    /// <summary>The struct that holds the formula; generated code names it.</summary>
    public abstract Type Formula { get; }
    /// <summary>The gradient rule: (x, y, dy, param) to dx, in graph ops.</summary>
    public abstract Tensor? Grad(Tensor x, Tensor y, Tensor dy, double p);
    /// <summary>The formula in double precision (the reference handler).</summary>
    public abstract double Apply(double x, double p);
    /// <summary>The reference evaluation: y[i] = f(x[i]).</summary>
    public abstract void Map<T>(ReadOnlySpan<T> x, Span<T> y, T p) where T : IFloatingPointIeee754<T>;
    public abstract TResult Dispatch<TResult>(IUnaryDispatch<TResult> d);
    public override string ToString() => Name;

    internal static UnaryFn Of<TF>() where TF : struct, IUnaryFormula => new UnaryFn<TF>();
}

internal sealed class UnaryFn<TF> : UnaryFn where TF : struct, IUnaryFormula
{
    public override string Name => TF.Name;
    public override string? ParamName => TF.ParamName;
    public override Type Formula => typeof(TF);
    public override Tensor? Grad(Tensor x, Tensor y, Tensor dy, double p) => TF.Gradient(x, y, dy, p);
    public override double Apply(double x, double p) => Reference<double>.Unary<TF>(x, p);
    public override TResult Dispatch<TResult>(IUnaryDispatch<TResult> d) => d.Invoke<TF>();

    public override void Map<T>(ReadOnlySpan<T> x, Span<T> y, T p)
    {
        for (int i = 0; i < y.Length; i++) y[i] = Reference<T>.Unary<TF>(x[i], p);
    }
}

/// <summary>An entry of the pointwise table: a binary function (see <see cref="Formulas"/>).</summary>
public abstract class BinaryFn
{
    public abstract string Name { get; }
    public abstract string? ParamName { get; }
    public abstract Type Formula { get; }
    /// <summary>The gradient rule: (da, db) before un-broadcasting (null for a side that is not needed).</summary>
    public abstract (Tensor?, Tensor?) Grad(BinaryGradient g);
    public abstract double Apply(double a, double b, double p);
    /// <summary>The reference evaluation with NumPy broadcasting.</summary>
    public abstract void Map<T>(T[] a, int[] aShape, T[] b, int[] bShape, T[] y, int[] yShape, T p) where T : IFloatingPointIeee754<T>;
    public abstract TResult Dispatch<TResult>(IBinaryDispatch<TResult> d);
    public override string ToString() => Name;

    internal static BinaryFn Of<TF>() where TF : struct, IBinaryFormula => new BinaryFn<TF>();
}

internal sealed class BinaryFn<TF> : BinaryFn where TF : struct, IBinaryFormula
{
    public override string Name => TF.Name;
    public override string? ParamName => TF.ParamName;
    public override Type Formula => typeof(TF);
    public override (Tensor?, Tensor?) Grad(BinaryGradient g) => TF.Gradient(g);
    public override double Apply(double a, double b, double p) => Reference<double>.Binary<TF>(a, b, p);
    public override TResult Dispatch<TResult>(IBinaryDispatch<TResult> d) => d.Invoke<TF>();

    public override void Map<T>(T[] a, int[] aShape, T[] b, int[] bShape, T[] y, int[] yShape, T p)
    {
        if (a.Length == y.Length && b.Length == y.Length)
        {
            for (int i = 0; i < y.Length; i++) y[i] = Reference<T>.Binary<TF>(a[i], b[i], p);
            return;
        }
        var v = new Visitor<T> { A = a, B = b, Y = y, P = p };
        new BroadcastPlan(yShape, aShape, bShape).ForEachRun(ref v);
    }

    private struct Visitor<T> : IRunVisitor where T : IFloatingPointIeee754<T>
    {
        public T[] A, B, Y; public T P;
        public void Run(int o, ReadOnlySpan<int> offs, ReadOnlySpan<int> s, int n)
        {
            int ia = offs[0], ib = offs[1], sa = s[0], sb = s[1];
            for (int j = 0; j < n; j++, ia += sa, ib += sb) Y[o + j] = Reference<T>.Binary<TF>(A[ia], B[ib], P);
        }
    }
}

/// <summary>The pointwise table's entries, one per function of <see cref="Formulas"/>. Fusion, code generation and eager kernels read it.</summary>
public static class Pointwise
{
    public static readonly UnaryFn Neg = UnaryFn.Of<Formulas.Neg>();
    public static readonly UnaryFn Exp = UnaryFn.Of<Formulas.Exp>();
    public static readonly UnaryFn Log = UnaryFn.Of<Formulas.Log>();
    public static readonly UnaryFn Sqrt = UnaryFn.Of<Formulas.Sqrt>();
    public static readonly UnaryFn Rsqrt = UnaryFn.Of<Formulas.Rsqrt>();
    public static readonly UnaryFn Abs = UnaryFn.Of<Formulas.Abs>();
    public static readonly UnaryFn Sign = UnaryFn.Of<Formulas.Sign>();
    public static readonly UnaryFn Square = UnaryFn.Of<Formulas.Square>();
    public static readonly UnaryFn Sigmoid = UnaryFn.Of<Formulas.Sigmoid>();
    public static readonly UnaryFn Tanh = UnaryFn.Of<Formulas.Tanh>();
    public static readonly UnaryFn Relu = UnaryFn.Of<Formulas.Relu>();
    public static readonly UnaryFn LeakyRelu = UnaryFn.Of<Formulas.LeakyRelu>();
    public static readonly UnaryFn Softplus = UnaryFn.Of<Formulas.Softplus>();
    public static readonly UnaryFn Log1p = UnaryFn.Of<Formulas.Log1p>();
    public static readonly UnaryFn Expm1 = UnaryFn.Of<Formulas.Expm1>();
    public static readonly UnaryFn Erf = UnaryFn.Of<Formulas.Erf>();
    public static readonly UnaryFn Elu = UnaryFn.Of<Formulas.Elu>();
    public static readonly UnaryFn Selu = UnaryFn.Of<Formulas.Selu>();
    public static readonly UnaryFn Gelu = UnaryFn.Of<Formulas.Gelu>();
    public static readonly UnaryFn GeluTanh = UnaryFn.Of<Formulas.GeluTanh>();
    public static readonly UnaryFn Silu = UnaryFn.Of<Formulas.Silu>();
    public static readonly UnaryFn Mish = UnaryFn.Of<Formulas.Mish>();
    public static readonly UnaryFn Softsign = UnaryFn.Of<Formulas.Softsign>();
    public static readonly UnaryFn Hardsigmoid = UnaryFn.Of<Formulas.Hardsigmoid>();
    public static readonly UnaryFn Hardswish = UnaryFn.Of<Formulas.Hardswish>();
    public static readonly UnaryFn StopGradient = UnaryFn.Of<Formulas.StopGradient>();

    public static readonly BinaryFn Add = BinaryFn.Of<Formulas.Add>();
    public static readonly BinaryFn Sub = BinaryFn.Of<Formulas.Sub>();
    public static readonly BinaryFn Mul = BinaryFn.Of<Formulas.Mul>();
    public static readonly BinaryFn Div = BinaryFn.Of<Formulas.Div>();
    public static readonly BinaryFn Pow = BinaryFn.Of<Formulas.Pow>();
    public static readonly BinaryFn Maximum = BinaryFn.Of<Formulas.Maximum>();
    public static readonly BinaryFn Minimum = BinaryFn.Of<Formulas.Minimum>();
    public static readonly BinaryFn Lerp = BinaryFn.Of<Formulas.Lerp>();
    public static readonly BinaryFn ReluGrad = BinaryFn.Of<Formulas.ReluGrad>();
    public static readonly BinaryFn LeakyReluGrad = BinaryFn.Of<Formulas.LeakyReluGrad>();
    public static readonly BinaryFn SigmoidGrad = BinaryFn.Of<Formulas.SigmoidGrad>();
    public static readonly BinaryFn TanhGrad = BinaryFn.Of<Formulas.TanhGrad>();
    /// <summary>dy · sigmoid(x): the derivative of softplus.</summary>
    public static readonly BinaryFn SoftplusGrad = BinaryFn.Of<Formulas.SoftplusGrad>();

    public static IReadOnlyList<UnaryFn> Unary { get; } =
    [
        Neg, Exp, Log, Sqrt, Rsqrt, Abs, Sign, Square, Sigmoid, Tanh, Relu, LeakyRelu, Softplus,
        Log1p, Expm1, Erf, Elu, Selu, Gelu, GeluTanh, Silu, Mish, Softsign, Hardsigmoid, Hardswish, StopGradient,
    ];
    public static IReadOnlyList<BinaryFn> Binary { get; } =
        [Add, Sub, Mul, Div, Pow, Maximum, Minimum, Lerp, ReluGrad, LeakyReluGrad, SigmoidGrad, TanhGrad, SoftplusGrad];
}
