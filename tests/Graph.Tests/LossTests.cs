using static GraphNet.Tests.GradCheck;

namespace GraphNet.Tests;

/// <summary>
/// The losses against PyTorch's documented formulas, written out here as plain loops in double
/// (an oracle independent of the graph ops the losses are built from), and their gradients
/// against finite differences.
/// </summary>
public class LossTests
{
    private static readonly Random Rng = new(8);
    private static double[] Rand(int n, double lo, double hi) => Enumerable.Range(0, n).Select(_ => lo + (hi - lo) * Rng.NextDouble()).ToArray();

    private static double Eval(Func<Graph, Tensor[], Tensor> build, params NDArray[] values)
    {
        var g = new Graph(seed: 1);
        var ps = values.Select((v, i) => g.Placeholder(v.DType, v.Shape, $"p{i}")).ToArray();
        var y = build(g, ps);
        return RefEval.Run([y], ps.Zip(values).ToDictionary(p => p.First, p => p.Second))[0].GetDouble(0);
    }

    private static double[] EvalAll(Func<Graph, Tensor[], Tensor> build, params NDArray[] values)
    {
        var g = new Graph(seed: 1);
        var ps = values.Select((v, i) => g.Placeholder(v.DType, v.Shape, $"p{i}")).ToArray();
        return RefEval.Run([build(g, ps)], ps.Zip(values).ToDictionary(p => p.First, p => p.Second))[0].ToDoubleArray();
    }

    private static void Close(double want, double got, string what) =>
        Assert.True(Math.Abs(want - got) <= 1e-12 * (1 + Math.Abs(want)), $"{what}: want {want:R}, got {got:R}");

    /// <summary>Cross entropy over [N, C, D] logits, classes on axis 1, with weights, an ignored index and label smoothing.</summary>
    [Theory]
    [InlineData(false, false, 0.0)]
    [InlineData(true, false, 0.0)]
    [InlineData(false, true, 0.0)]
    [InlineData(true, true, 0.2)]
    [InlineData(false, false, 0.1)]
    public void CrossEntropyFollowsPyTorchsFormula(bool weighted, bool ignore, double eps)
    {
        const int N = 3, C = 4, D = 2;
        var logits = Rand(N * C * D, -2, 2);
        long[] targets = [0, 3, 2, 2, 1, 0];
        if (ignore) targets[3] = -100;
        var weight = weighted ? Rand(C, 0.5, 2) : Enumerable.Repeat(1.0, C).ToArray();
        // The oracle: log_softmax over c at each (n, d), then PyTorch's weighted nll and smoothing terms.
        double nllSum = 0, weightSum = 0, smoothSum = 0;
        var perElement = new double[N * D];
        for (int n = 0; n < N; n++)
            for (int d = 0; d < D; d++)
            {
                long t = targets[n * D + d];
                if (t == -100) continue;
                double Z(int c) => logits[(n * C + c) * D + d];
                double lse = Math.Log(Enumerable.Range(0, C).Sum(c => Math.Exp(Z(c))));
                double nll = -weight[t] * (Z((int)t) - lse), smooth = -Enumerable.Range(0, C).Sum(c => weight[c] * (Z(c) - lse));
                nllSum += nll; weightSum += weight[t]; smoothSum += smooth;
                perElement[n * D + d] = (1 - eps) * nll + eps / C * smooth;
            }
        var x = NDArray.From(logits, N, C, D);
        var y = NDArray.From(targets, N, D);
        var w = NDArray.From(weight, C);
        int? ig = ignore ? -100 : null;
        Tensor Ce(Tensor[] p, Reduction r) => F.CrossEntropy(p[0], p[1], weighted ? p[2] : null, ig, r, eps);
        Close((1 - eps) * nllSum / weightSum + eps / C * smoothSum / weightSum, Eval((g, p) => Ce(p, Reduction.Mean), x, y, w), "mean");
        Close(perElement.Sum(), Eval((g, p) => Ce(p, Reduction.Sum), x, y, w), "sum");
        var none = EvalAll((g, p) => Ce(p, Reduction.None), x, y, w);
        for (int i = 0; i < none.Length; i++) Close(perElement[i], none[i], $"none[{i}]");
        Check((g, p) => Ce([p[0], g.Constant(y), g.Constant(w)], Reduction.Mean), new Input([N, C, D], -2, 2));
    }

    [Fact]
    public void CrossEntropyWithProbabilityTargetsAndNllOnTwoDimensions()
    {
        var logits = Rand(6, -2, 2);
        var probs = new[] { 0.2, 0.5, 0.3, 0.6, 0.1, 0.3 };
        double want = 0;
        for (int n = 0; n < 2; n++)
        {
            double lse = Math.Log(Enumerable.Range(0, 3).Sum(c => Math.Exp(logits[n * 3 + c])));
            for (int c = 0; c < 3; c++) want -= probs[n * 3 + c] * (logits[n * 3 + c] - lse);
        }
        Close(want / 2, Eval((g, p) => F.CrossEntropy(p[0], p[1]), NDArray.From(logits, 2, 3), NDArray.From(probs, 2, 3)), "probabilities");
        // nll_loss with weights: Σ −w[t]·x[n, t] / Σ w[t].
        var lp = NDArray.From(new[] { -0.1, -2.0, -3.0, -1.5, -0.4, -2.5 }, 2, 3);
        var t = NDArray.From(new long[] { 2, 1 }, 2);
        var w = NDArray.From(new[] { 1.0, 2.0, 0.5 }, 3);
        Close((0.5 * 3.0 + 2.0 * 0.4) / 2.5, Eval((g, p) => F.NllLoss(p[0], p[1], p[2]), lp, t, w), "weighted nll");
        Close(3.0 + 0.4, Eval((g, p) => F.NllLoss(p[0], p[1], reduction: Reduction.Sum), lp, t), "summed nll");
    }

    public static TheoryData<string> Elementwise =>
        new() { "mse", "l1", "smooth_l1", "smooth_l1_b0", "huber", "bce", "bce_logits", "bce_pos", "kl", "kl_log" };

    [Theory, MemberData(nameof(Elementwise))]
    public void ElementwiseLossesFollowPyTorchsFormulas(string name)
    {
        var a = Rand(6, name.StartsWith("bce") && name != "bce" ? -3 : 0.05, name.StartsWith("bce") && name != "bce" ? 3 : 0.95);
        var b = Rand(6, name == "kl_log" ? -3 : 0.05, name == "kl_log" ? -0.1 : 0.95);
        if (name is "mse" or "l1" or "smooth_l1" or "smooth_l1_b0" or "huber") b = b.Select(v => v * 4 - 2).ToArray();
        var pw = new[] { 0.5, 2.0, 3.0 };
        if (name == "kl") b[2] = 0; // 0·log 0 counts as 0
        double Oracle(int i)
        {
            double x = a[i], z = b[i], d = Math.Abs(x - z);
            return name switch
            {
                "mse" => d * d, "l1" => d,
                "smooth_l1" => d < 0.7 ? 0.5 * d * d / 0.7 : d - 0.35, "smooth_l1_b0" => d,
                "huber" => d <= 0.6 ? 0.5 * d * d : 0.6 * (d - 0.3),
                "bce" => -(z * Math.Log(x) + (1 - z) * Math.Log(1 - x)),
                "bce_logits" => -(z * Math.Log(1 / (1 + Math.Exp(-x))) + (1 - z) * Math.Log(1 - 1 / (1 + Math.Exp(-x)))),
                "bce_pos" => -(pw[i % 3] * z * Math.Log(1 / (1 + Math.Exp(-x))) + (1 - z) * Math.Log(1 - 1 / (1 + Math.Exp(-x)))),
                "kl" => z == 0 ? 0 : z * (Math.Log(z) - x),
                _ => Math.Exp(z) * (z - x),
            };
        }
        Tensor Loss(Tensor[] p, Reduction r) => name switch
        {
            "mse" => F.MseLoss(p[0], p[1], r), "l1" => F.L1Loss(p[0], p[1], r),
            "smooth_l1" => F.SmoothL1Loss(p[0], p[1], r, beta: 0.7), "smooth_l1_b0" => F.SmoothL1Loss(p[0], p[1], r, beta: 0),
            "huber" => F.HuberLoss(p[0], p[1], r, delta: 0.6), "bce" => F.BinaryCrossEntropy(p[0], p[1], reduction: r),
            "bce_logits" => F.BinaryCrossEntropyWithLogits(p[0], p[1], reduction: r),
            "bce_pos" => F.BinaryCrossEntropyWithLogits(p[0], p[1], posWeight: p[0].Graph.Constant(NDArray.From(pw, 3)), reduction: r),
            "kl" => F.KlDiv(p[0], p[1], r), _ => F.KlDiv(p[0], p[1], r, logTarget: true),
        };
        var x = NDArray.From(a, 2, 3);
        var z = NDArray.From(b, 2, 3);
        var each = Enumerable.Range(0, 6).Select(Oracle).ToArray();
        Close(each.Average(), Eval((g, p) => Loss(p, Reduction.Mean), x, z), "mean");
        Close(each.Sum(), Eval((g, p) => Loss(p, Reduction.Sum), x, z), "sum");
        var none = EvalAll((g, p) => Loss(p, Reduction.None), x, z);
        for (int i = 0; i < 6; i++) Close(each[i], none[i], $"none[{i}]");
        if (name.StartsWith("kl")) Close(each.Sum() / 2, Eval((g, p) => Loss(p, Reduction.BatchMean), x, z), "batchmean");
        // The gradient with respect to the prediction (targets held as constants).
        Check((g, p) => Loss([p[0], g.Constant(z)], Reduction.Mean), new Input([2, 3], a.Min(), a.Max()) with { Value = x });
    }

    [Fact]
    public void BinaryCrossEntropyClampsItsLogsAtMinusOneHundredAsPyTorch()
    {
        var p = NDArray.From(new[] { 0.0, 1.0 }, 2);
        var t = NDArray.From(new[] { 1.0, 1.0 }, 2);
        var each = EvalAll((g, x) => F.BinaryCrossEntropy(x[0], x[1], reduction: Reduction.None), p, t);
        Assert.Equal(new[] { 100.0, 0.0 }, each);
    }

    [Fact]
    public void MinimizingALossThatIsNotAScalarIsAnErrorThatSaysHowToFixIt()
    {
        var g = new Graph(seed: 1);
        var w = g.Variable("w", [3], Initializer.Uniform(-1, 1));
        var e = Assert.Throws<GraphException>(() => new Train.Sgd(0.1).Minimize(F.Square(w)));
        Assert.Contains("not a scalar", e.Message);
        Assert.Contains("F.Mean", e.Message);
        var bad = Assert.Throws<GraphException>(() => F.CrossEntropy(g.Placeholder([-1, 3], "x"), g.Placeholder(DType.Int64, [-1, 2], "y")));
        Assert.Contains("axis 1", bad.Message);
    }
}
