namespace GraphNet;

/// <summary>How a loss reduces its per-element values, as PyTorch's <c>reduction=</c>.</summary>
public enum Reduction
{
    /// <summary>The mean (weighted by the class weights where a loss has them, as PyTorch).</summary>
    Mean,
    Sum,
    /// <summary>The per-element losses, unreduced.</summary>
    None,
    /// <summary>The sum divided by the batch size (KL divergence only: PyTorch's 'batchmean').</summary>
    BatchMean,
}

/// <summary>
/// Losses with PyTorch's names, arguments, defaults and formulas (torch.nn.functional). Each is
/// written in graph ops, so its gradient, fusion and every backend come with them.
/// </summary>
public static partial class F
{
    private static Tensor Reduced(Tensor loss, Reduction reduction, string name) => reduction switch
    {
        Reduction.Mean => Mean(loss),
        Reduction.Sum => Sum(loss),
        Reduction.None => loss,
        _ => throw new GraphException($"{name}: reduction {reduction} is for kl_div only; use Mean, Sum or None"),
    };

    /// <summary>Negative log likelihood of integer targets under log-probabilities [N, C] (mean over the batch).</summary>
    public static Tensor NllLoss(Tensor logProbs, Tensor targets) => NllLoss(logProbs, targets, weight: null);

    /// <summary>
    /// Negative log likelihood, as torch.nn.functional.nll_loss: log-probabilities [N, C] or [N,
    /// C, d1, ...] (classes on axis 1), integer targets [N] or [N, d1, ...]; class weights [C];
    /// targets equal to <paramref name="ignoreIndex"/> count for nothing (PyTorch's default is
    /// −100; here the mask is built only when asked for). The mean divides by the summed weights
    /// of the counted targets.
    /// </summary>
    public static Tensor NllLoss(Tensor logProbs, Tensor targets, Tensor? weight = null, int? ignoreIndex = null,
        Reduction reduction = Reduction.Mean)
        => Nll(Pick(logProbs, targets, weight, ignoreIndex, "nll_loss"), reduction, "nll_loss");

    private static Tensor Nll(Picked p, Reduction reduction, string name)
    {
        if (p.Weight is not { } w) return Reduced(-p.LogProb, reduction, name);
        var loss = -(p.LogProb * w);
        return reduction == Reduction.Mean ? Sum(loss) / Sum(w) : Reduced(loss, reduction, name);
    }

    /// <summary>Cross entropy from logits [N, C] and integer targets (mean over the batch).</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor targets) => CrossEntropy(logits, targets, weight: null);

    /// <summary>
    /// Cross entropy, as torch.nn.functional.cross_entropy: log_softmax over axis 1, then the NLL
    /// (integer targets, with <paramref name="weight"/> and <paramref name="ignoreIndex"/> as
    /// there), or float targets of the logits' shape (class probabilities). <paramref
    /// name="labelSmoothing"/> ε mixes in the uniform distribution: (1 − ε)·nll + ε/C·Σ −w_c·log p_c,
    /// normalized as PyTorch does.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor targets, Tensor? weight = null, int? ignoreIndex = null,
        Reduction reduction = Reduction.Mean, double labelSmoothing = 0)
    {
        if (logits.Rank < 2) throw new GraphException($"cross_entropy: logits {logits.Shape} need a class axis 1 ([N, C] or [N, C, d...])");
        if (labelSmoothing is < 0 or > 1) throw new GraphException($"cross_entropy: label smoothing {labelSmoothing} is outside [0, 1]");
        var lp = LogSoftmax(logits, 1);
        int classes = logits.Shape[1];
        var wb = weight is null ? null : ClassWeights(weight, lp, "cross_entropy");
        if (targets.DType.IsFloat())
        {
            if (targets.Shape != logits.Shape)
                throw new GraphException($"cross_entropy: probability targets {targets.Shape} must have the logits' shape {logits.Shape}");
            if (ignoreIndex is not null) throw new GraphException("cross_entropy: ignore_index applies to class-index targets only");
            var t = labelSmoothing > 0 ? targets * (1 - labelSmoothing) + labelSmoothing / classes : targets;
            var per = -Sum(wb is null ? lp * t : lp * t * wb, [1]);
            return reduction == Reduction.Mean ? Sum(per) / CountOf(per, [.. Enumerable.Range(0, per.Rank)])
                : Reduced(per, reduction, "cross_entropy");
        }
        var picked = Pick(lp, targets, weight, ignoreIndex, "cross_entropy");
        var nll = Nll(picked, reduction, "cross_entropy");
        if (labelSmoothing == 0) return nll;
        var smooth = -Sum(wb is null ? lp : lp * wb, [1]);
        if (picked.Kept is { } kept) smooth = smooth * kept;
        var reducedSmooth = reduction switch
        {
            Reduction.Mean => picked.Weight is not { } w ? Mean(smooth) : Sum(smooth) / Sum(w),
            _ => Reduced(smooth, reduction, "cross_entropy"),
        };
        return nll * (1 - labelSmoothing) + reducedSmooth * (labelSmoothing / classes);
    }

    /// <summary>
    /// Each target's log-probability; when weights or an ignored index are given, each target's
    /// weight (0 where ignored; null means all ones); with an ignored index, 1 where a target counts.
    /// </summary>
    private readonly record struct Picked(Tensor LogProb, Tensor? Weight, Tensor? Kept);

    private static Picked Pick(Tensor logProbs, Tensor targets, Tensor? weight, int? ignoreIndex, string name)
    {
        if (!targets.DType.IsInteger())
            throw new GraphException($"{name}: targets '{targets.Name}' must be class indices (int32 or int64), not {targets.DType.ShortName()}");
        if (logProbs.Rank < 2 || targets.Rank != logProbs.Rank - 1)
            throw new GraphException($"{name}: input {logProbs.Shape} (classes on axis 1) and targets {targets.Shape} do not match: " +
                "the targets have the input's shape without axis 1");
        int classes = logProbs.Shape[1];
        // Classes last, so each target's one-hot row lines up with its scores.
        var last = logProbs.Rank == 2 ? logProbs
            : Transpose(logProbs, [0, .. Enumerable.Range(2, logProbs.Rank - 2), 1]);
        Tensor? keep = null;
        var safe = targets;
        if (ignoreIndex is { } ig)
        {
            keep = NotEqual(targets, targets.Graph.Scalar(ig, targets.DType));
            safe = Where(keep, targets, ZerosLike(targets));
        }
        var oneHot = OneHot(safe, classes, logProbs.DType);
        var picked = Sum(last * oneHot, [-1]);
        Tensor? kept = keep is null ? null : Cast(keep, logProbs.DType), w = kept;
        if (weight is not null)
        {
            if (weight.Shape != new Shape(classes))
                throw new GraphException($"{name}: weight {weight.Shape} must hold one value per class ([{classes}])");
            var wt = Sum(oneHot * weight, [-1]);
            w = w is null ? wt : w * wt;
        }
        return new Picked(picked, w, kept);
    }

    /// <summary>Class weights [C] shaped to broadcast along axis 1 of <paramref name="like"/>.</summary>
    private static Tensor ClassWeights(Tensor weight, Tensor like, string name)
    {
        if (weight.Shape != new Shape(like.Shape[1]))
            throw new GraphException($"{name}: weight {weight.Shape} must hold one value per class ([{like.Shape[1]}])");
        return like.Rank == 2 ? weight : Reshape(weight, [like.Shape[1], .. Enumerable.Repeat(1, like.Rank - 2)]);
    }

    private static void SameShape(Tensor a, Tensor b, string name)
    {
        if (a.Shape != b.Shape) throw new GraphException($"{name}: input {a.Shape} and target {b.Shape} must have the same shape");
    }

    /// <summary>Mean squared error.</summary>
    public static Tensor MseLoss(Tensor prediction, Tensor target) => MseLoss(prediction, target, Reduction.Mean);

    /// <summary>Squared error, as torch.nn.functional.mse_loss.</summary>
    public static Tensor MseLoss(Tensor prediction, Tensor target, Reduction reduction)
    {
        SameShape(prediction, target, "mse_loss");
        return Reduced(Square(prediction - target), reduction, "mse_loss");
    }

    /// <summary>Absolute error, as torch.nn.functional.l1_loss.</summary>
    public static Tensor L1Loss(Tensor prediction, Tensor target, Reduction reduction = Reduction.Mean)
    {
        SameShape(prediction, target, "l1_loss");
        return Reduced(Abs(prediction - target), reduction, "l1_loss");
    }

    /// <summary>Smooth L1, as torch.nn.functional.smooth_l1_loss: 0.5·d²/β below β, else |d| − 0.5·β (β = 0 is L1).</summary>
    public static Tensor SmoothL1Loss(Tensor prediction, Tensor target, Reduction reduction = Reduction.Mean, double beta = 1.0)
    {
        SameShape(prediction, target, "smooth_l1_loss");
        if (beta < 0) throw new GraphException($"smooth_l1_loss: beta {beta} must not be negative");
        var d = Abs(prediction - target);
        var loss = beta == 0 ? d : Where(Less(d, beta), Square(d) * (0.5 / beta), d - 0.5 * beta);
        return Reduced(loss, reduction, "smooth_l1_loss");
    }

    /// <summary>Huber, as torch.nn.functional.huber_loss: 0.5·d² up to δ, else δ·(|d| − 0.5·δ).</summary>
    public static Tensor HuberLoss(Tensor prediction, Tensor target, Reduction reduction = Reduction.Mean, double delta = 1.0)
    {
        SameShape(prediction, target, "huber_loss");
        if (delta <= 0) throw new GraphException($"huber_loss: delta {delta} must be positive");
        var d = Abs(prediction - target);
        return Reduced(Where(Less(d, delta), Square(d) * 0.5, (d - 0.5 * delta) * delta), reduction, "huber_loss");
    }

    /// <summary>
    /// Binary cross entropy on probabilities, as torch.nn.functional.binary_cross_entropy: each log
    /// is clamped at −100 as PyTorch's, so a probability of exactly 0 or 1 gives a finite loss.
    /// </summary>
    public static Tensor BinaryCrossEntropy(Tensor probabilities, Tensor targets, Tensor? weight = null, Reduction reduction = Reduction.Mean)
    {
        SameShape(probabilities, targets, "binary_cross_entropy");
        var loss = -(targets * Maximum(Log(probabilities), -100) + (1.0 - targets) * Maximum(Log(1.0 - probabilities), -100));
        return Reduced(weight is null ? loss : loss * weight, reduction, "binary_cross_entropy");
    }

    /// <summary>Binary cross entropy from logits: mean of softplus(x) − x·z, computed stably.</summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor logits, Tensor targets) =>
        BinaryCrossEntropyWithLogits(logits, targets, weight: null);

    /// <summary>
    /// Binary cross entropy from logits, as torch.nn.functional.binary_cross_entropy_with_logits:
    /// (1 − z)·x + (1 + (p − 1)·z)·softplus(−x), with <paramref name="posWeight"/> p broadcast over the last axis.
    /// </summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor logits, Tensor targets, Tensor? weight = null, Tensor? posWeight = null,
        Reduction reduction = Reduction.Mean)
    {
        SameShape(logits, targets, "binary_cross_entropy_with_logits");
        var loss = posWeight is null ? Softplus(logits) - logits * targets
            : (1.0 - targets) * logits + ((posWeight - 1.0) * targets + 1.0) * Softplus(-logits);
        return Reduced(weight is null ? loss : loss * weight, reduction, "binary_cross_entropy_with_logits");
    }

    /// <summary>
    /// KL divergence, as torch.nn.functional.kl_div: <paramref name="input"/> is log-probabilities,
    /// <paramref name="target"/> probabilities (or log-probabilities with <paramref name="logTarget"/>);
    /// target·(log target − input), 0 where the target is 0. PyTorch's default reduction is
    /// 'mean' (over elements), which it warns is not the KL divergence: BatchMean is.
    /// </summary>
    public static Tensor KlDiv(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, bool logTarget = false)
    {
        SameShape(input, target, "kl_div");
        var loss = logTarget ? Exp(target) * (target - input)
            : Where(Greater(target, 0.0), target * (Log(target) - input), ZerosLike(target));
        if (reduction != Reduction.BatchMean) return Reduced(loss, reduction, "kl_div");
        if (input.Rank == 0) return loss;
        var perSample = loss.Rank == 1 ? loss : Sum(loss, [.. Enumerable.Range(1, loss.Rank - 1)]);
        return Sum(perSample) / CountOf(perSample, [0]);
    }
}
