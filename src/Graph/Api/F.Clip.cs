namespace GraphNet;

public static partial class F
{
    /// <summary>
    /// Scales gradients so that their joint norm is at most <paramref name="maxNorm"/>, as
    /// torch.nn.utils.clip_grad_norm_: the norm of all of them together (p = <paramref
    /// name="normType"/>, ∞ for the largest magnitude), each multiplied by min(1, maxNorm /
    /// (norm + 1e-6)). Returns the clipped gradients (null stays null) and the norm before clipping.
    /// </summary>
    public static (Tensor?[] Clipped, Tensor TotalNorm) ClipGradNorm(IReadOnlyList<Tensor?> grads, double maxNorm, double normType = 2)
    {
        var present = grads.Where(g => g is not null).Select(g => g!).ToList();
        if (present.Count == 0) throw new GraphException("clip_grad_norm: there are no gradients to clip");
        if (!(normType > 0)) throw new GraphException($"clip_grad_norm: norm type {normType} must be positive (or infinity)");
        Tensor total;
        if (double.IsPositiveInfinity(normType))
            total = present.Select(g => Max(Abs(g))).Aggregate(Maximum);
        else
        {
            var sum = present.Select(g => normType == 2 ? Sum(Square(g)) : Sum(Pow(Abs(g), normType))).Aggregate((a, b) => a + b);
            total = normType == 2 ? Sqrt(sum) : Pow(sum, 1 / normType);
        }
        var scale = Minimum(maxNorm / (total + 1e-6), 1.0);
        return (grads.Select(g => g is null ? null : g * Cast(scale, g.DType)).ToArray(), total);
    }

    /// <summary>
    /// Clamps every gradient to [−<paramref name="clipValue"/>, <paramref name="clipValue"/>], as
    /// torch.nn.utils.clip_grad_value_.
    /// </summary>
    public static Tensor?[] ClipGradValue(IReadOnlyList<Tensor?> grads, double clipValue)
    {
        if (!(clipValue > 0)) throw new GraphException($"clip_grad_value: the bound {clipValue} must be positive");
        return grads.Select(g => g is null ? null : Clamp(g, -clipValue, clipValue)).ToArray();
    }
}
