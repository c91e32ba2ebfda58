namespace GraphNet;

/// <summary>One-dimensional convolution and pooling over [N, C, L] (as 2-D ones over a height of 1), channel dropout, unflatten.</summary>
public static partial class F
{
    /// <summary>[N, C, L] with a weight [O, C/groups, K], as torch.nn.functional.conv1d.</summary>
    public static Tensor Conv1d(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1)
    {
        if (x.Rank != 3 || weight.Rank != 3)
            throw new GraphException($"conv1d: input {x.Shape} must be [N, C, L] and weight {weight.Shape} [out, in/groups, kernel]");
        var y = Conv2d(Rows(x), Reshape(weight, weight.Shape[0], weight.Shape[1], 1, weight.Shape[2]), null,
            [1, stride], [0, padding], [1, dilation], groups);
        var r = Flat(y);
        return bias is null ? r : r + Reshape(bias, [-1, 1]);
    }

    /// <summary>Max pooling over L of [N, C, L]; the stride defaults to the kernel, as PyTorch.</summary>
    public static Tensor MaxPool1d(Tensor x, int kernel, int? stride = null, int padding = 0) => Pool1d(PoolKind.Max, x, kernel, stride, padding);

    /// <summary>Average pooling over L of [N, C, L] (padding counted, as PyTorch's default).</summary>
    public static Tensor AvgPool1d(Tensor x, int kernel, int? stride = null, int padding = 0) => Pool1d(PoolKind.Avg, x, kernel, stride, padding);

    private static Tensor Pool1d(PoolKind kind, Tensor x, int kernel, int? stride, int padding)
    {
        if (x.Rank != 3) throw new GraphException($"{kind.ToString().ToLowerInvariant()}_pool1d: input {x.Shape} must be [N, C, L]");
        return Flat(Pool2d(Rows(x), new PoolParams(kind, [1, kernel], [1, stride ?? kernel], [0, padding])));
    }

    /// <summary>[N, C, L] as [N, C, 1, L].</summary>
    private static Tensor Rows(Tensor x) => Reshape(x, x.Shape[0] < 0 ? -1 : x.Shape[0], x.Shape[1], 1, x.Shape[2]);

    /// <summary>[N, C, 1, L] as [N, C, L].</summary>
    private static Tensor Flat(Tensor y) => Reshape(y, y.Shape[0] < 0 ? -1 : y.Shape[0], y.Shape[1], y.Shape[3]);

    /// <summary>
    /// Channel dropout, as torch.nn.functional.dropout2d: each (sample, channel) plane of [N, C, ...]
    /// is zeroed with probability <paramref name="rate"/> or scaled by 1/(1 − rate), in training.
    /// </summary>
    public static Tensor Dropout2d(Tensor x, double rate = 0.5, Tensor? training = null, int? seed = null)
    {
        // [N, C] has planes of one element: PyTorch (with a deprecation warning) drops elements then.
        if (x.Rank == 2) return Dropout(x, rate, training, seed);
        if (x.Rank < 3) throw new GraphException($"dropout2d: input {x.Shape} must be [N, C, ...] with planes to drop");
        var plane = x;
        for (int d = 2; d < x.Rank; d++) plane = Slice(plane, d, 0, 1);
        return x * Dropout(OnesLike(plane), rate, training, seed);
    }

    /// <summary>Dimension <paramref name="dim"/> split into <paramref name="sizes"/>, as torch.unflatten.</summary>
    public static Tensor Unflatten(Tensor x, int dim, params int[] sizes)
    {
        int d = dim < 0 ? dim + x.Rank : dim;
        if (d < 0 || d >= x.Rank || x.Shape[d] < 0 || sizes.Aggregate(1, (a, b) => a * b) != x.Shape[d])
            throw new GraphException($"unflatten: dimension {dim} of {x.Shape} cannot be split into [{string.Join(",", sizes)}]");
        var dims = x.Shape.Dims.ToList();
        dims.RemoveAt(d);
        dims.InsertRange(d, sizes);
        return Reshape(x, ReshapeTarget(new Shape([.. dims])));
    }
}
