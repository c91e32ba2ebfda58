namespace GraphNet.Train;

/// <summary>SGD with momentum, dampening, Nesterov and weight decay (PyTorch's rule: the first step's buffer is the gradient).</summary>
public sealed class Sgd(double lr, double momentum = 0, double dampening = 0, bool nesterov = false,
    double weightDecay = 0, string name = "sgd") : Optimizer(name, lr)
{
    protected override Tensor Update(Tensor p, Tensor g, Tensor t)
    {
        if (weightDecay != 0) g = g + weightDecay * p;
        if (momentum != 0)
        {
            var buf = Slot(p, "momentum_buffer");
            var first = F.Equal(t, p.Graph.Scalar(1, t.DType));
            var next = F.Where(first, g, momentum * buf + (1 - dampening) * g);
            var step = nesterov ? g + momentum * next : next;
            return F.Group(p - Lr(p) * step, Assign(buf, next));
        }
        return p - Lr(p) * g;
    }
}

/// <summary>Adagrad: sum += g²; p -= lr / (1 + (t-1) lr_decay) · g / (sqrt(sum) + eps).</summary>
public sealed class Adagrad(double lr = 0.01, double lrDecay = 0, double weightDecay = 0,
    double initialAccumulator = 0, double eps = 1e-10, string name = "adagrad") : Optimizer(name, lr)
{
    protected override Tensor Update(Tensor p, Tensor g, Tensor t)
    {
        if (weightDecay != 0) g = g + weightDecay * p;
        var sum = Slot(p, "sum", initialAccumulator);
        var s = sum + F.Square(g);
        var clr = lrDecay == 0 ? Lr(p) : Lr(p) / (1.0 + (t - 1.0) * lrDecay);
        var update = p - clr * g / (F.Sqrt(s) + eps);
        return F.Group(update, Assign(sum, s));
    }
}

/// <summary>Adadelta: v = ρv + (1-ρ)g²; Δ = sqrt(u+eps)/sqrt(v+eps)·g; u = ρu + (1-ρ)Δ²; p -= lr·Δ (the averages as lerps).</summary>
public sealed class Adadelta(double lr = 1.0, double rho = 0.9, double eps = 1e-6, double weightDecay = 0,
    string name = "adadelta") : Optimizer(name, lr)
{
    protected override Tensor Update(Tensor p, Tensor g, Tensor t)
    {
        if (weightDecay != 0) g = g + weightDecay * p;
        var squareAvg = Slot(p, "square_avg");
        var accDelta = Slot(p, "acc_delta");
        var v = F.Lerp(squareAvg, F.Square(g), 1 - rho);
        var delta = F.Sqrt(accDelta + eps) / F.Sqrt(v + eps) * g;
        var u = F.Lerp(accDelta, F.Square(delta), 1 - rho);
        return F.Group(p - Lr(p) * delta, Assign(squareAvg, v), Assign(accDelta, u));
    }
}

/// <summary>RMSprop, optionally centered and with momentum.</summary>
public sealed class RmsProp(double lr = 0.01, double alpha = 0.99, double eps = 1e-8, double weightDecay = 0,
    double momentum = 0, bool centered = false, string name = "rmsprop") : Optimizer(name, lr)
{
    protected override Tensor Update(Tensor p, Tensor g, Tensor t)
    {
        if (weightDecay != 0) g = g + weightDecay * p;
        var effects = new List<Tensor>();
        var squareAvg = Slot(p, "square_avg");
        var v = Set(squareAvg, F.Lerp(squareAvg, F.Square(g), 1 - alpha), effects);
        Tensor avg;
        if (centered)
        {
            var gradAvg = Slot(p, "grad_avg");
            var ga = Set(gradAvg, F.Lerp(gradAvg, g, 1 - alpha), effects);
            avg = F.Sqrt(v - F.Square(ga)) + eps;
        }
        else avg = F.Sqrt(v) + eps;
        Tensor next;
        if (momentum > 0)
        {
            var buf = Slot(p, "momentum_buffer");
            var b = Set(buf, momentum * buf + g / avg, effects);
            next = p - Lr(p) * b;
        }
        else next = p - Lr(p) * g / avg;
        return F.Group([next, .. effects]);
    }
}

/// <summary>
/// Adam (and AdamW's decoupled weight decay, and AMSGrad), with bias correction by β^t, written as PyTorch's
/// single-tensor implementation: the moments kept with lerp, the step as exp_avg / denom.
/// </summary>
public class Adam(double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0, bool decoupled = false,
    string name = "adam", bool amsgrad = false) : Optimizer(name, lr)
{
    protected override Tensor Update(Tensor p, Tensor g, Tensor t)
    {
        var param = p;
        if (decoupled) param = p * (1.0 - Lr(p) * weightDecay);
        else if (weightDecay != 0) g = g + weightDecay * p;
        var m = Slot(p, "exp_avg");
        var v = Slot(p, "exp_avg_sq");
        var m1 = F.Lerp(m, g, 1 - beta1);
        var v1 = F.Lerp(v, F.Square(g), 1 - beta2);
        var (stepSize, bc2Sqrt) = Corrections(t, p.DType);
        var effects = new List<Tensor> { Assign(m, m1), Assign(v, v1) };
        var second = v1;
        if (amsgrad)
        {
            // AMSGrad: the denominator uses the largest second moment so far.
            var vMax = Slot(p, "max_exp_avg_sq");
            second = Set(vMax, F.Maximum(vMax, v1), effects);
        }
        var denom = F.Sqrt(second) / bc2Sqrt + eps;
        var next = param - stepSize * (m1 / denom);
        return F.Group([next, .. effects]);
    }

    private (Tensor T, DType DType, Tensor StepSize, Tensor Bc2Sqrt)? corrections;

    /// <summary>
    /// lr / (1 − β₁ᵗ) and √(1 − β₂ᵗ), made once per step for every parameter (eager mode would
    /// otherwise run them again for each one). In float64, as PyTorch computes them in Python
    /// floats: 1 − 0.999ᵗ in float32 is off by 1e-5 of itself in the first steps.
    /// </summary>
    private (Tensor StepSize, Tensor Bc2Sqrt) Corrections(Tensor t, DType dtype)
    {
        if (corrections is { } c && c.T == t && c.DType == dtype) return (c.StepSize, c.Bc2Sqrt);
        var t64 = F.Cast(t, DType.Float64);
        var bc1 = 1.0 - F.Pow(t.Graph.Scalar(beta1, DType.Float64), t64);
        var bc2 = 1.0 - F.Pow(t.Graph.Scalar(beta2, DType.Float64), t64);
        corrections = (t, dtype, F.Cast(Lr(t, DType.Float64) / bc1, dtype), F.Cast(F.Sqrt(bc2), dtype));
        return (corrections.Value.StepSize, corrections.Value.Bc2Sqrt);
    }
}

/// <summary>AdamW: Adam with decoupled weight decay (default 0.01, as PyTorch).</summary>
public sealed class AdamW(double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
    double weightDecay = 1e-2, string name = "adamw", bool amsgrad = false)
    : Adam(lr, beta1, beta2, eps, weightDecay, decoupled: true, name, amsgrad);
