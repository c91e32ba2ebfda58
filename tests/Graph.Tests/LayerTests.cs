using GraphNet.Nn;

namespace GraphNet.Tests;

public class LayerTests
{
    [Fact]
    public void LayersUsePyTorchNamesLayoutsAndDefaultInitBounds()
    {
        var g = new Graph();
        var conv = new Conv2d(g, "conv1", 3, 8, 5);
        var fc = new Linear(g, "fc1", 20, 7);
        var tconv = new ConvTranspose2d(g, "up", 8, 4, 3, stride: 2);
        var lstm = new LSTM(g, "lstm", 10, 16);
        var gru = new GRU(g, "gru", 10, 16);
        Assert.Equal("[8,3,5,5]", conv.Weight.Shape.ToString());
        Assert.Equal("[7,20]", fc.Weight.Shape.ToString());
        Assert.Equal("[8,4,3,3]", tconv.Weight.Shape.ToString());
        Assert.Equal("[64,10]", lstm.WeightIh.Shape.ToString());
        Assert.Equal("[48,16]", gru.WeightHh.Shape.ToString());
        Assert.Equal(new[] { "conv1.weight", "conv1.bias", "fc1.weight", "fc1.bias", "up.weight", "up.bias",
            "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0",
            "gru.weight_ih_l0", "gru.weight_hh_l0", "gru.bias_ih_l0", "gru.bias_hh_l0" },
            g.Variables.Select(v => ((VariableOp)v.Op).VarName));

        // kaiming_uniform(a=sqrt(5)) reduces to U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        Assert.Equal(new UniformInit(-1 / Math.Sqrt(75), 1 / Math.Sqrt(75)), ((VariableOp)conv.Weight.Node.Op).Initializer);
        Assert.Equal(new UniformInit(-1 / Math.Sqrt(36), 1 / Math.Sqrt(36)), ((VariableOp)tconv.Weight.Node.Op).Initializer);
        Assert.Equal(new UniformInit(-0.25, 0.25), ((VariableOp)lstm.WeightHh.Node.Op).Initializer);
    }

    [Fact]
    public void UniformInitializerDrawsInRangeWithTheRightSpreadAndIsDeterministic()
    {
        var init = new UniformInit(-0.5, 0.5);
        var a = init.Create(DType.Float32, [100, 100], 42).As<float>();
        var b = init.Create(DType.Float32, [100, 100], 42).As<float>();
        var c = init.Create(DType.Float32, [100, 100], 43).As<float>();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.All(a, v => Assert.InRange(v, -0.5f, 0.5f));
        double mean = a.Average(v => (double)v), variance = a.Average(v => (v - mean) * (v - mean));
        Assert.InRange(mean, -0.02, 0.02);
        Assert.InRange(variance, 1 / 12.0 * 0.95, 1 / 12.0 * 1.05); // U(-0.5,0.5) has variance 1/12
    }

    [Fact]
    public void NormalInitializerHasTheRequestedMoments()
    {
        var a = new NormalInit(1, 2).Create(DType.Float64, [20000], 5).As<double>();
        double mean = a.Average(), std = Math.Sqrt(a.Average(v => (v - mean) * (v - mean)));
        Assert.InRange(mean, 0.95, 1.05);
        Assert.InRange(std, 1.95, 2.05);
    }

    [Fact]
    public void DropoutKeepsAboutOneMinusRateAndScalesTheSurvivors()
    {
        var g = new Graph(seed: 3);
        var x = g.Placeholder([1000], "x");
        var y = F.Dropout(x, 0.25);
        var ones = NDArray.From(Enumerable.Repeat(1f, 1000).ToArray(), 1000);
        var run0 = RefEval.Run([y], new Dictionary<Tensor, NDArray> { [x] = ones }, runCounter: 0)[0].As<float>();
        var run1 = RefEval.Run([y], new Dictionary<Tensor, NDArray> { [x] = ones }, runCounter: 1)[0].As<float>();
        Assert.All(run0, v => Assert.True(v == 0 || Math.Abs(v - 1 / 0.75f) < 1e-6));
        Assert.InRange(run0.Count(v => v != 0), 700, 800);
        Assert.NotEqual(run0, run1); // a fresh mask every run
        var eval = RefEval.Run([y], new Dictionary<Tensor, NDArray> { [x] = ones, [g.Training] = NDArray.From([false]) })[0].As<float>();
        Assert.All(eval, v => Assert.Equal(1f, v));
    }

    [Fact]
    public void ForwardPassesMatchHandComputedValues()
    {
        // Linear: y = x Wᵀ + b with known numbers.
        var g = new Graph();
        var x = g.Placeholder(DType.Float64, [1, 2], "x");
        var w = g.Constant(NDArray.From(new[] { 1.0, 2, 3, 4, 5, 6 }, 3, 2));
        var b = g.Constant(NDArray.From(new[] { 0.5, 0, -0.5 }, 3));
        var y = F.MatMul(x, w, transB: true) + b;
        var r = RefEval.Run(y, (x, NDArray.From(new[] { 1.0, -1 }, 1, 2))).As<double>();
        Assert.Equal(new[] { -0.5, -1, -1.5 }, r);

        // Max pool 2x2 and average pool on a 4x4 ramp.
        var img = g.Placeholder(DType.Float64, [1, 1, 4, 4], "img");
        var ramp = NDArray.From(Enumerable.Range(0, 16).Select(i => (double)i).ToArray(), 1, 1, 4, 4);
        Assert.Equal(new[] { 5.0, 7, 13, 15 }, RefEval.Run(F.MaxPool2d(img, 2), (img, ramp)).As<double>());
        Assert.Equal(new[] { 0.0, 2, 8, 10 }, RefEval.Run(F.MinPool2d(img, 2), (img, ramp)).As<double>());
        Assert.Equal(new[] { 2.5, 4.5, 10.5, 12.5 }, RefEval.Run(F.AvgPool2d(img, 2), (img, ramp)).As<double>());

        // log_softmax of [0, ln 3] is [ln 1/4, ln 3/4].
        var z = g.Placeholder(DType.Float64, [1, 2], "z");
        var ls = RefEval.Run(F.LogSoftmax(z), (z, NDArray.From(new[] { 0, Math.Log(3) }, 1, 2))).As<double>();
        Assert.Equal(Math.Log(0.25), ls[0], 12);
        Assert.Equal(Math.Log(0.75), ls[1], 12);
    }

    [Fact]
    public void ConvTransposeIsTheAdjointOfConv()
    {
        // <conv(x), y> == <x, conv_transpose(y)> for the same weights: the defining property.
        var rng = new Random(2);
        var g = new Graph();
        var x = g.Placeholder(DType.Float64, [2, 3, 7, 7], "x");
        var y = g.Placeholder(DType.Float64, [2, 4, 4, 4], "y");
        var w = g.Placeholder(DType.Float64, [4, 3, 3, 3], "w");
        var lhs = F.Sum(F.Conv2d(x, w, null, stride: 2, padding: 1) * y);
        var rhs = F.Sum(x * F.ConvTranspose2d(y, w, null, stride: 2, padding: 1, outputPadding: 0));
        var feeds = new Dictionary<Tensor, NDArray> { [x] = RefEval.RandomDouble(rng, [2, 3, 7, 7]), [y] = RefEval.RandomDouble(rng, [2, 4, 4, 4]), [w] = RefEval.RandomDouble(rng, [4, 3, 3, 3]) };
        var r = RefEval.Run([lhs, rhs], feeds);
        Assert.Equal(r[0].Item(), r[1].Item(), 9);
    }
}
