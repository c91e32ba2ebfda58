using GraphNet.Compiler;
using GraphNet.Train;

namespace GraphNet.Compiler.Tests;

/// <summary>
/// Each optimizer's graph update against the published rule computed by hand here, on
/// loss = Σ ½·c·p² (so the gradient c·p changes every step), for several steps.
/// </summary>
public class OptimizerTests
{
    private static readonly double[] P0 = [0.5, -1.5, 2.0];
    private static readonly double[] C = [1.0, 0.3, 2.5];

    private static double[][] RunGraph(Optimizer opt, int steps, Action? afterStep = null, double? clipNorm = null,
        double? clipValue = null, int expectedCompilations = 1)
    {
        var g = new Graph();
        var p = g.Variable("p", [3], Initializer.FromValue(NDArray.From((double[])P0.Clone(), 3)), DType.Float64);
        var c = g.Constant(NDArray.From(C, 3));
        var loss = F.Sum(0.5 * c * p * p);
        var train = opt.Minimize(loss, clipGradNorm: clipNorm, clipGradValue: clipValue);
        using var s = new Session(g);
        var result = new List<double[]>();
        for (int i = 0; i < steps; i++)
        {
            s.Run(train);
            result.Add(s.GetVariable("p").As<double>().ToArray());
            afterStep?.Invoke();
        }
        Assert.Equal(expectedCompilations, s.CompileCount);
        return result.ToArray();
    }

    /// <summary>Runs a hand-written rule: update(p, g, t) changes p in place.</summary>
    private static double[][] RunByHand(Action<double[], double[], int> update, int steps)
    {
        var p = (double[])P0.Clone();
        var result = new List<double[]>();
        for (int t = 1; t <= steps; t++)
        {
            var g = p.Select((v, i) => C[i] * v).ToArray();
            update(p, g, t);
            result.Add((double[])p.Clone());
        }
        return result.ToArray();
    }

    private static void AssertSame(double[][] expected, double[][] actual)
    {
        for (int s = 0; s < expected.Length; s++)
            for (int i = 0; i < 3; i++)
                Assert.True(Math.Abs(expected[s][i] - actual[s][i]) < 1e-12 * (1 + Math.Abs(expected[s][i])),
                    $"step {s + 1}, p[{i}]: rule gives {expected[s][i]}, graph gives {actual[s][i]}");
    }

    [Theory]
    [InlineData(0.0, 0.0, false, 0.0)]
    [InlineData(0.9, 0.0, false, 0.0)]
    [InlineData(0.9, 0.1, false, 0.01)]
    [InlineData(0.8, 0.0, true, 0.05)]
    public void Sgd(double momentum, double dampening, bool nesterov, double wd)
    {
        const double lr = 0.1;
        var buf = new double[3];
        var expected = RunByHand((p, g, t) =>
        {
            for (int i = 0; i < 3; i++)
            {
                double d = g[i] + wd * p[i];
                if (momentum != 0)
                {
                    buf[i] = t == 1 ? d : momentum * buf[i] + (1 - dampening) * d;
                    d = nesterov ? d + momentum * buf[i] : buf[i];
                }
                p[i] -= lr * d;
            }
        }, 4);
        AssertSame(expected, RunGraph(new Train.Sgd(lr, momentum, dampening, nesterov, wd), 4));
    }

    [Theory]
    [InlineData(0.0, 0.0), InlineData(0.1, 0.01)]
    public void Adagrad(double lrDecay, double wd)
    {
        const double lr = 0.1, eps = 1e-10;
        var sum = new double[3];
        var expected = RunByHand((p, g, t) =>
        {
            double clr = lr / (1 + (t - 1) * lrDecay);
            for (int i = 0; i < 3; i++)
            {
                double d = g[i] + wd * p[i];
                sum[i] += d * d;
                p[i] -= clr * d / (Math.Sqrt(sum[i]) + eps);
            }
        }, 4);
        AssertSame(expected, RunGraph(new Train.Adagrad(lr, lrDecay, wd), 4));
    }

    [Theory]
    [InlineData(0.5, 0.0), InlineData(1.0, 0.1)]
    public void Adadelta(double lr, double wd)
    {
        const double rho = 0.9, eps = 1e-6;
        var v = new double[3]; var u = new double[3];
        var expected = RunByHand((p, g, t) =>
        {
            for (int i = 0; i < 3; i++)
            {
                double d = g[i] + wd * p[i];
                v[i] = rho * v[i] + (1 - rho) * d * d;
                double delta = Math.Sqrt(u[i] + eps) / Math.Sqrt(v[i] + eps) * d;
                u[i] = rho * u[i] + (1 - rho) * delta * delta;
                p[i] -= lr * delta;
            }
        }, 4);
        AssertSame(expected, RunGraph(new Train.Adadelta(lr, rho, eps, wd), 4));
    }

    [Theory]
    [InlineData(0.0, false), InlineData(0.9, false), InlineData(0.5, true)]
    public void RmsProp(double momentum, bool centered)
    {
        const double lr = 0.01, alpha = 0.99, eps = 1e-8;
        var sq = new double[3]; var ga = new double[3]; var buf = new double[3];
        var expected = RunByHand((p, g, t) =>
        {
            for (int i = 0; i < 3; i++)
            {
                sq[i] = alpha * sq[i] + (1 - alpha) * g[i] * g[i];
                double avg;
                if (centered) { ga[i] = alpha * ga[i] + (1 - alpha) * g[i]; avg = Math.Sqrt(sq[i] - ga[i] * ga[i]) + eps; }
                else avg = Math.Sqrt(sq[i]) + eps;
                if (momentum > 0) { buf[i] = momentum * buf[i] + g[i] / avg; p[i] -= lr * buf[i]; }
                else p[i] -= lr * g[i] / avg;
            }
        }, 4);
        AssertSame(expected, RunGraph(new Train.RmsProp(lr, alpha, eps, 0, momentum, centered), 4));
    }

    [Theory]
    [InlineData(false, 0.0), InlineData(false, 0.1), InlineData(true, 0.1)]
    public void AdamAndAdamW(bool decoupled, double wd)
    {
        const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
        var m = new double[3]; var v = new double[3];
        var expected = RunByHand((p, g, t) =>
        {
            for (int i = 0; i < 3; i++)
            {
                double d = g[i];
                if (decoupled) p[i] *= 1 - lr * wd; else d += wd * p[i];
                m[i] = b1 * m[i] + (1 - b1) * d;
                v[i] = b2 * v[i] + (1 - b2) * d * d;
                double bc1 = 1 - Math.Pow(b1, t), bc2 = 1 - Math.Pow(b2, t);
                p[i] -= lr / bc1 * m[i] / (Math.Sqrt(v[i]) / Math.Sqrt(bc2) + eps);
            }
        }, 5);
        Optimizer opt = decoupled ? new Train.AdamW(lr, b1, b2, eps, wd) : new Train.Adam(lr, b1, b2, eps, wd);
        AssertSame(expected, RunGraph(opt, 5));
    }

    /// <summary>
    /// In float32, Adam's bias corrections are computed in double as PyTorch does (Python floats):
    /// computed in float32, 1 − 0.999ᵗ is off by about 1e-5 of itself, and the updates by 6e-6.
    /// </summary>
    [Fact]
    public void AdamInFloat32TakesItsBiasCorrectionsInDoubleAsPyTorchDoes()
    {
        const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
        float[] p = [.. P0.Select(x => (float)x)], m = new float[3], v = new float[3];
        var expected = new List<float[]>();
        for (int t = 1; t <= 5; t++)
        {
            double stepSize = lr / (1 - Math.Pow(b1, t)), bc2Sqrt = Math.Sqrt(1 - Math.Pow(b2, t));
            for (int i = 0; i < 3; i++)
            {
                float g = (float)C[i] * p[i];
                m[i] = m[i] + (g - m[i]) * (float)(1 - b1); // torch.lerp
                v[i] = v[i] + (g * g - v[i]) * (float)(1 - b2);
                float denom = MathF.Sqrt(v[i]) / (float)bc2Sqrt + (float)eps;
                p[i] -= (float)stepSize * (m[i] / denom);
            }
            expected.Add([.. p]);
        }
        var graph = new Graph();
        var w = graph.Variable("p", [3], Initializer.FromValue(NDArray.From(P0.Select(x => (float)x).ToArray(), 3)));
        var train = new Train.Adam(lr, b1, b2, eps).Minimize(F.Sum(0.5 * graph.Constant(NDArray.From(C.Select(x => (float)x).ToArray(), 3)) * w * w));
        using var s = new Session(graph);
        for (int t = 0; t < 5; t++)
        {
            s.Run(train);
            var got = s.GetVariable("p").As<float>().ToArray();
            for (int i = 0; i < 3; i++)
            {
                // Relative to the distance moved, so that float32 corrections (6e-6 off) fail.
                double moved = Math.Abs(expected[t][i] - P0[i]);
                Assert.True(Math.Abs(got[i] - expected[t][i]) <= 1e-6 * moved + 1e-7,
                    $"step {t + 1}, element {i}: {got[i]:R} against {expected[t][i]:R} (moved {moved:G3})");
            }
        }
    }

    [Fact]
    public void TheTrainOpReturnsTheStepCountAndSlotsAreNamedLikePyTorch()
    {
        var g = new Graph();
        var w = g.Variable("fc.weight", [2], Initializer.Ones);
        var train = new Train.Adam().Minimize(F.Sum(w * w));
        using var s = new Session(g);
        Assert.Equal(1.0, s.Run(train).Item());
        Assert.Equal(2.0, s.Run(train).Item());
        Assert.NotNull(g.GetVariable("fc.weight.exp_avg"));
        Assert.NotNull(g.GetVariable("fc.weight.exp_avg_sq"));
    }

    [Fact]
    public void AmsGradDividesByTheLargestSecondMomentSoFar()
    {
        const double lr = 0.4, b1 = 0.9, b2 = 0.999, eps = 1e-8;
        var m = new double[3]; var v = new double[3]; var vMax = new double[3];
        int below = 0;
        var expected = RunByHand((p, g, t) =>
        {
            for (int i = 0; i < 3; i++)
            {
                m[i] = b1 * m[i] + (1 - b1) * g[i];
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                vMax[i] = Math.Max(vMax[i], v[i]);
                if (v[i] < vMax[i]) below++;
                double bc1 = 1 - Math.Pow(b1, t), bc2 = 1 - Math.Pow(b2, t);
                p[i] -= lr / bc1 * m[i] / (Math.Sqrt(vMax[i]) / Math.Sqrt(bc2) + eps);
            }
        }, 40);
        Assert.True(below > 10, $"the second moment fell below its maximum only {below} times: the test would not tell AMSGrad from Adam");
        AssertSame(expected, RunGraph(new Train.Adam(lr, b1, b2, eps, amsgrad: true), 40));
    }

    [Fact]
    public void AStepLRScheduleChangesTheRateEveryTwoStepsWithoutRecompiling()
    {
        var opt = new Train.Sgd(0.2, momentum: 0.5);
        var schedule = new StepLR(opt, stepSize: 2, gamma: 0.5);
        var rates = new List<double>();
        var buf = new double[3];
        double rate = 0.2;
        var expected = RunByHand((p, g, t) =>
        {
            for (int i = 0; i < 3; i++)
            {
                buf[i] = t == 1 ? g[i] : 0.5 * buf[i] + g[i];
                p[i] -= rate * buf[i];
            }
            rate = 0.2 * Math.Pow(0.5, t / 2);
        }, 6);
        AssertSame(expected, RunGraph(opt, 6, () => { schedule.Step(); rates.Add(opt.LearningRate); }));
        Assert.Equal(new[] { 0.2, 0.1, 0.1, 0.05, 0.05, 0.025 }, rates);
    }

    [Theory]
    [InlineData(1.0, null), InlineData(null, 0.4), InlineData(0.5, 0.6)]
    public void GradientsAreClampedThenScaledToTheirNormAsPyTorchClips(double? maxNorm, double? clipValue)
    {
        const double lr = 0.3;
        int clipped = 0;
        var expected = RunByHand((p, g, t) =>
        {
            if (clipValue is { } cv) for (int i = 0; i < 3; i++) g[i] = Math.Clamp(g[i], -cv, cv);
            if (maxNorm is { } mn)
            {
                double norm = Math.Sqrt(g.Sum(x => x * x)), scale = Math.Min(1, mn / (norm + 1e-6));
                if (scale < 1) clipped++;
                for (int i = 0; i < 3; i++) g[i] *= scale;
            }
            for (int i = 0; i < 3; i++) p[i] -= lr * g[i];
        }, 5);
        if (maxNorm is not null) Assert.True(clipped > 0, "the norm never exceeded the bound: the test would not see clipping");
        AssertSame(expected, RunGraph(new Train.Sgd(lr), 5, clipNorm: maxNorm, clipValue: clipValue));
    }

    [Fact]
    public void SchedulersFollowPyTorchsFormulas()
    {
        double[] Rates(Func<Optimizer, LRScheduler> make, int steps)
        {
            var opt = new Train.Sgd(0.1);
            var sch = make(opt);
            var r = new List<double> { opt.LearningRate };
            for (int i = 0; i < steps; i++) { sch.Step(); r.Add(opt.LearningRate); }
            return [.. r];
        }
        void Near(double[] want, double[] got)
        {
            Assert.Equal(want.Length, got.Length);
            for (int i = 0; i < want.Length; i++) Assert.True(Math.Abs(want[i] - got[i]) < 1e-15, $"epoch {i}: want {want[i]}, got {got[i]}");
        }
        Near([0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001], Rates(o => new StepLR(o, 3), 6));
        Near([0.1, 0.1, 0.05, 0.05, 0.05, 0.025], Rates(o => new MultiStepLR(o, [2, 5], 0.5), 5));
        Near([0.1, 0.09, 0.081, 0.0729], Rates(o => new ExponentialLR(o, 0.9), 3));
        // Cosine over 4 epochs to 0.02: 0.1, 0.02 + 0.08·(1 + cos(π/4))/2, 0.06, ..., 0.02, then back up.
        double Cos(int e) => 0.02 + 0.08 * (1 + Math.Cos(Math.PI * e / 4)) / 2;
        Near([0.1, Cos(1), 0.06, Cos(3), 0.02, Cos(5)], Rates(o => new CosineAnnealingLR(o, 4, 0.02), 5));
        // One cycle over 10 steps, max 0.1: starts at 0.1/25, peaks at step 2 (= 0.3·10 − 1), ends at 0.004/1e4 at step 9.
        var one = Rates(o => new OneCycleLR(o, 0.1, 10), 9);
        Near([0.004, 0.1 + (0.004 - 0.1) / 2 * (Math.Cos(Math.PI * 0.5) + 1), 0.1], one[..3]);
        Assert.True(Math.Abs(one[9] - 4e-7) < 1e-18, $"the last step's rate is {one[9]}");
        for (int i = 3; i <= 9; i++) Assert.True(one[i] < one[i - 1], $"step {i}: {one[i]} is not below {one[i - 1]}");
        var linear = Rates(o => new OneCycleLR(o, 0.1, 10, annealStrategy: "linear", threePhase: true), 9);
        Near([0.004, 0.052, 0.1, 0.004 + (0.1 - 0.004) * (1 - 1.0 / 2)], linear[..4]); // phase 2 runs from step 2 to 4
        Assert.Throws<GraphException>(() => { var o = new Train.Sgd(0.1); var s = new OneCycleLR(o, 0.1, 2); s.Step(); s.Step(); s.Step(); });
    }

    [Fact]
    public void ReduceLROnPlateauCutsTheRateAfterPatienceRunsOutAndWaitsItsCooldown()
    {
        var opt = new Train.Sgd(1.0);
        var plateau = new ReduceLROnPlateau(opt, factor: 0.5, patience: 2, cooldown: 1);
        // Epochs: 1 best, then three without a 1e-4 relative improvement (the third exceeds patience 2:
        // cut), one of cooldown, then three more bad ones (cut again), then an improvement.
        double[] metrics = [1.0, 1.0, 0.99995, 1.2, 5, 5, 5, 5, 0.5];
        var rates = new List<double>();
        foreach (var m in metrics) { plateau.Step(m); rates.Add(opt.LearningRate); }
        Assert.Equal(new[] { 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25 }, rates);
        Assert.Equal(0.5, plateau.Best);
    }
}
