namespace GraphNet.Tests;

/// <summary>
/// The activations and special functions of the pointwise table against an oracle nobody here
/// wrote: the values below are Python's math module (libm's erf, log1p, expm1, exp, tanh) applied
/// to PyTorch's definitions; selu's constants are PyTorch's.
/// </summary>
public class ActivationTests
{
    private static readonly double[] Xs = [-3.5, -1.3, -0.2, 1e-9, 0.3, 0.7, 2.5];

    private static readonly Dictionary<string, double[]> Python = new()
    {
        ["erf"] = [-0.9999992569016276, -0.9340079449406524, -0.22270258921047847, 1.1283791670955127e-09,
            0.3286267594591274, 0.6778011938374184, 0.999593047982555],
        ["log1p"] = [double.NaN, double.NaN, -0.22314355131420976, 9.999999995e-10,
            0.26236426446749106, 0.5306282510621704, 1.252762968495368],
        ["expm1"] = [-0.9698026165776815, -0.7274682069659875, -0.18126924692201815, 1.0000000005000001e-09,
            0.3498588075760031, 1.0137527074704764, 11.182493960703473],
        ["elu"] = [-0.9698026165776815, -0.7274682069659875, -0.18126924692201815, 1e-09, 0.3, 0.7, 2.5],
        ["selu"] = [-1.705009340957283, -1.2789613751543256, -0.31868934352950046, 1.0507009873554806e-09,
            0.31521029620664415, 0.7354906911488363, 2.626752468388701],
        ["gelu"] = [-0.0008142017766243903, -0.12584062996129347, -0.0841480581121794, 5.000000003989423e-10,
            0.18537342665668577, 0.5306254434438489, 2.4844758366855597],
        ["gelu_tanh"] = [-0.0006161976553737403, -0.1260709876826906, -0.08414857021789374, 5.000000003989423e-10,
            0.18537092354275922, 0.5305701347051167, 2.484915733910001],
        ["silu"] = [-0.10259280762974712, -0.2784145220446738, -0.09003320053750444, 5.000000002500001e-10,
            0.1723327550434977, 0.46773144051771626, 2.3103545499468914],
        ["mish"] = [-0.10409575448637122, -0.3073824647494959, -0.10714478086835713, 6.000000003200001e-10,
            0.20800137234811503, 0.5611483776438518, 2.471392304557881],
        ["softsign"] = [-0.7777777777777778, -0.5652173913043479, -0.16666666666666669, 9.99999999e-10,
            0.23076923076923075, 0.4117647058823529, 0.7142857142857143],
        ["hardsigmoid"] = [0.0, 0.2833333333333333, 0.4666666666666666, 0.5000000001666667,
            0.5499999999999999, 0.6166666666666667, 0.9166666666666666],
        ["hardswish"] = [-0.0, -0.36833333333333335, -0.09333333333333332, 5.000000001666667e-10,
            0.16499999999999998, 0.43166666666666664, 2.2916666666666665],
    };

    public static TheoryData<string> Names => new(Python.Keys);

    [Theory, MemberData(nameof(Names))]
    public void TheFloat64ReferenceMatchesPythonsMath(string name)
    {
        var fn = Pointwise.Unary.Single(f => f.Name == name);
        // erf above |x| = 0.5 is a fit good to 1.2e-7 (and gelu through it); the rest to rounding.
        double rtol = name is "erf" or "gelu" ? 2e-7 : 1e-13;
        for (int i = 0; i < Xs.Length; i++)
        {
            double want = Python[name][i], got = fn.Apply(Xs[i], 1.0); // elu's alpha = 1, as PyTorch's default
            if (double.IsNaN(want)) { Assert.True(double.IsNaN(got), $"{name}({Xs[i]}) = {got}, want NaN"); continue; }
            Assert.True(Math.Abs(got - want) <= rtol * Math.Abs(want) + 1e-300, $"{name}({Xs[i]}) = {got:R}, Python gives {want:R}");
        }
    }

    [Fact]
    public void Log1pAndExpm1KeepTheirPrecisionWhereTheNaiveFormsLoseIt()
    {
        // 1 + 1e-12 rounds to a double whose log is off by 1e-4 relative; the entries are not.
        foreach (var x in new[] { 1e-12, -3e-10, 1e-6 })
        {
            Assert.Equal(x - x * x / 2 + x * x * x / 3, Pointwise.Log1p.Apply(x, 0), 4e-16 * Math.Abs(x));
            Assert.Equal(x + x * x / 2 + x * x * x / 6, Pointwise.Expm1.Apply(x, 0), 4e-16 * Math.Abs(x));
        }
        Assert.Equal(double.PositiveInfinity, Pointwise.Log1p.Apply(double.PositiveInfinity, 0));
        Assert.Equal(double.PositiveInfinity, Pointwise.Expm1.Apply(double.PositiveInfinity, 0));
        Assert.Equal(-1.0, Pointwise.Expm1.Apply(double.NegativeInfinity, 0));
        Assert.Equal(double.NegativeInfinity, Pointwise.Log1p.Apply(-1, 0));
    }

    [Fact]
    public void StopGradientPassesTheValueAndNoGradient()
    {
        var g = new Graph(seed: 1);
        var x = g.Placeholder(DType.Float64, [3], "x");
        var y = F.Square(x) + F.StopGradient(F.Square(x)) * x;
        var dx = F.Gradients([F.Sum(y)], [x])[0]!;
        var feeds = new Dictionary<Tensor, NDArray> { [x] = NDArray.From([1.0, -2.0, 0.5], 3) };
        var r = RefEval.Run([y, dx], feeds);
        // y = x² + x²·x in value; dy/dx = 2x + x² (the stopped x² is a constant): not 2x + 3x².
        Assert.Equal(new[] { 2.0, -4.0, 0.375 }, r[0].ToDoubleArray());
        Assert.Equal(new[] { 3.0, 0.0, 1.25 }, r[1].ToDoubleArray());
    }

    [Fact]
    public void ClampPreluAndGluFollowTheirDefinitionsAndGradients()
    {
        GradCheck.Check((g, x) => F.Clamp(x[0], -0.5, 0.8), new GradCheck.Input([3, 4], -2, 2));
        GradCheck.Check((g, x) => F.Clamp(x[0], min: 0.1) + F.Clamp(x[0], max: -0.2) + F.Relu6(x[0] * 5), new GradCheck.Input([3, 4], -2, 2));
        GradCheck.Check((g, x) => F.Prelu(x[0], x[1]), new GradCheck.Input([2, 3, 2, 2], -2, 2), new GradCheck.Input([3], 0.1, 0.5));
        GradCheck.Check((g, x) => F.Prelu(x[0], x[1]), new GradCheck.Input([4, 3], -2, 2), new GradCheck.Input([1], 0.1, 0.5));
        GradCheck.Check((g, x) => F.Glu(x[0], 1), new GradCheck.Input([2, 6, 2], -2, 2));
        var gr = new Graph(seed: 1);
        var v = gr.Placeholder(DType.Float64, [1, 4], "v");
        var feeds = new Dictionary<Tensor, NDArray> { [v] = NDArray.From([-3.0, 0.2, 0.5, 9.0], 1, 4) };
        var r = RefEval.Run([F.Clamp(v, -1, 1), F.Glu(v), F.Prelu(v, gr.Constant(NDArray.From([0.25], 1)))], feeds);
        Assert.Equal(new[] { -1.0, 0.2, 0.5, 1.0 }, r[0].ToDoubleArray());
        Assert.Equal(new[] { -3 / (1 + Math.Exp(-0.5)), 0.2 / (1 + Math.Exp(-9.0)) }, r[1].ToDoubleArray(), (a, b) => Math.Abs(a - b) < 1e-15);
        Assert.Equal(new[] { -0.75, 0.2, 0.5, 9.0 }, r[2].ToDoubleArray());
        Assert.Throws<GraphException>(() => F.Glu(v, 0));
        Assert.Throws<GraphException>(() => F.Clamp(v, 2, 1));
    }
}
