namespace GraphNet.Train;

/// <summary>
/// A learning-rate schedule, as torch.optim.lr_scheduler: it sets its optimizer's <see
/// cref="Optimizer.LearningRate"/> (which the compiled step reads every run, so nothing
/// recompiles). Made at epoch 0 with the optimizer's current rate as the base; <see cref="Step"/>
/// advances one epoch (or one batch, as the schedule is used).
/// </summary>
public abstract class LRScheduler
{
    protected LRScheduler(Optimizer optimizer)
    {
        Optimizer = optimizer;
        BaseLr = optimizer.LearningRate;
    }

    public Optimizer Optimizer { get; }
    /// <summary>The optimizer's rate when the scheduler was made (PyTorch's initial_lr).</summary>
    public double BaseLr { get; }
    /// <summary>Steps taken (PyTorch's last_epoch).</summary>
    public int LastEpoch { get; private set; }

    /// <summary>The rate set last (PyTorch's get_last_lr()).</summary>
    public double LastLr => Optimizer.LearningRate;

    public void Step()
    {
        LastEpoch++;
        Optimizer.LearningRate = RateAt(LastEpoch);
    }

    /// <summary>The rate at an epoch, in closed form.</summary>
    public abstract double RateAt(int epoch);
}

/// <summary>StepLR: the base rate times gamma every <c>stepSize</c> epochs.</summary>
public sealed class StepLR(Optimizer optimizer, int stepSize, double gamma = 0.1) : LRScheduler(optimizer)
{
    public override double RateAt(int epoch) => BaseLr * Math.Pow(gamma, epoch / Positive(stepSize));

    internal static int Positive(int n) => n > 0 ? n : throw new GraphException($"a scheduler's step size must be positive, not {n}");
}

/// <summary>MultiStepLR: the base rate times gamma once for each milestone reached.</summary>
public sealed class MultiStepLR(Optimizer optimizer, int[] milestones, double gamma = 0.1) : LRScheduler(optimizer)
{
    public override double RateAt(int epoch) => BaseLr * Math.Pow(gamma, milestones.Count(m => m <= epoch));
}

/// <summary>ExponentialLR: the base rate times gamma every epoch.</summary>
public sealed class ExponentialLR(Optimizer optimizer, double gamma) : LRScheduler(optimizer)
{
    public override double RateAt(int epoch) => BaseLr * Math.Pow(gamma, epoch);
}

/// <summary>CosineAnnealingLR: ηmin + (base − ηmin)·(1 + cos(π·epoch/Tmax))/2 (PyTorch's closed form).</summary>
public sealed class CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin = 0) : LRScheduler(optimizer)
{
    public override double RateAt(int epoch) =>
        etaMin + (BaseLr - etaMin) * (1 + Math.Cos(Math.PI * epoch / StepLR.Positive(tMax))) / 2;
}

/// <summary>
/// OneCycleLR's learning rate (Smith's 1cycle, as PyTorch): from maxLr/divFactor up to maxLr over
/// the first pctStart of the steps, then down to that over finalDivFactor, cosine or linear, in two
/// phases or three. Step it once per batch. Unlike PyTorch's default, it does not cycle momentum.
/// </summary>
public sealed class OneCycleLR : LRScheduler
{
    private readonly (double End, double From, double To)[] phases;
    private readonly int totalSteps;
    private readonly bool cosine;

    public OneCycleLR(Optimizer optimizer, double maxLr, int totalSteps, double pctStart = 0.3, string annealStrategy = "cos",
        double divFactor = 25, double finalDivFactor = 1e4, bool threePhase = false) : base(optimizer)
    {
        if (totalSteps <= 0) throw new GraphException($"OneCycleLR: total steps must be positive, not {totalSteps}");
        if (pctStart is <= 0 or >= 1) throw new GraphException($"OneCycleLR: pct_start {pctStart} must be in (0, 1)");
        cosine = annealStrategy switch
        {
            "cos" => true, "linear" => false,
            _ => throw new GraphException($"OneCycleLR: anneal strategy must be 'cos' or 'linear', not '{annealStrategy}'"),
        };
        this.totalSteps = totalSteps;
        double initial = maxLr / divFactor, min = initial / finalDivFactor;
        phases = threePhase
            ? [(pctStart * totalSteps - 1, initial, maxLr), (2 * pctStart * totalSteps - 2, maxLr, initial), (totalSteps - 1, initial, min)]
            : [(pctStart * totalSteps - 1, initial, maxLr), (totalSteps - 1, maxLr, min)];
        optimizer.LearningRate = initial;
    }

    public override double RateAt(int epoch)
    {
        if (epoch > totalSteps)
            throw new GraphException($"OneCycleLR: stepped {epoch} times, beyond its {totalSteps} total steps");
        double start = 0;
        for (int i = 0; i < phases.Length; i++)
        {
            var (end, from, to) = phases[i];
            if (epoch <= end || i == phases.Length - 1)
            {
                double pct = (epoch - start) / (end - start);
                return cosine ? to + (from - to) / 2 * (Math.Cos(Math.PI * pct) + 1) : (to - from) * pct + from;
            }
            start = end;
        }
        throw new InvalidOperationException("unreachable");
    }
}

/// <summary>
/// ReduceLROnPlateau: multiplies the rate by <c>factor</c> when the metric given to <see
/// cref="Step(double)"/> has not improved for more than <c>patience</c> epochs (PyTorch's rules:
/// relative or absolute threshold, cooldown, a floor of minLr, changes below eps ignored).
/// </summary>
public sealed class ReduceLROnPlateau(Optimizer optimizer, string mode = "min", double factor = 0.1, int patience = 10,
    double threshold = 1e-4, string thresholdMode = "rel", int cooldown = 0, double minLr = 0, double eps = 1e-8)
{
    private readonly bool min = mode switch
    {
        "min" => true, "max" => false, _ => throw new GraphException($"ReduceLROnPlateau: mode must be 'min' or 'max', not '{mode}'"),
    };
    private readonly bool relative = thresholdMode switch
    {
        "rel" => true, "abs" => false,
        _ => throw new GraphException($"ReduceLROnPlateau: threshold mode must be 'rel' or 'abs', not '{thresholdMode}'"),
    };
    private readonly double factorChecked = factor < 1 ? factor : throw new GraphException($"ReduceLROnPlateau: factor {factor} must be below 1");
    private int cooldownCounter;

    public Optimizer Optimizer { get; } = optimizer;
    public double Best { get; private set; } = mode == "max" ? double.NegativeInfinity : double.PositiveInfinity;
    public int BadEpochs { get; private set; }

    public void Step(double metric)
    {
        if (IsBetter(metric)) { Best = metric; BadEpochs = 0; }
        else BadEpochs++;
        if (cooldownCounter > 0) { cooldownCounter--; BadEpochs = 0; }
        if (BadEpochs > patience)
        {
            double old = Optimizer.LearningRate, next = Math.Max(old * factorChecked, minLr);
            if (old - next > eps) Optimizer.LearningRate = next;
            cooldownCounter = cooldown;
            BadEpochs = 0;
        }
    }

    private bool IsBetter(double a) => (min, relative) switch
    {
        (true, true) => a < Best * (1 - threshold),
        (true, false) => a < Best - threshold,
        (false, true) => a > Best * (threshold + 1),
        _ => a > Best + threshold,
    };
}
