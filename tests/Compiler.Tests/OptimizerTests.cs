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

    private static double[][] RunGraph(Optimizer opt, int steps)
    {
        var g = new Graph();
        var p = g.Variable("p", [3], Initializer.FromValue(NDArray.From((double[])P0.Clone(), 3)), DType.Float64);
        var c = g.Constant(NDArray.From(C, 3));
        var loss = F.Sum(0.5 * c * p * p);
        var train = opt.Minimize(loss);
        using var s = new Session(g);
        var result = new List<double[]>();
        for (int i = 0; i < steps; i++) { s.Run(train); result.Add(s.GetVariable("p").As<double>().ToArray()); }
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
}
