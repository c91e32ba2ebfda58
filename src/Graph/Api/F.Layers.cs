namespace GraphNet;

/// <summary>The functional forms of PyTorch's normalization, embedding and resampling layers, in graph ops.</summary>
public static partial class F
{
    /// <summary>
    /// Layer normalization over the last dimensions (as many as <paramref name="normalizedShape"/>
    /// has, which they must equal), with the biased variance and an optional elementwise affine, as
    /// torch.nn.functional.layer_norm.
    /// </summary>
    public static Tensor LayerNorm(Tensor x, int[] normalizedShape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        int k = normalizedShape.Length, r = x.Rank;
        if (k == 0 || k > r || !x.Shape.Dims.Skip(r - k).SequenceEqual(normalizedShape))
            throw new GraphException($"layer_norm: normalized shape [{string.Join(",", normalizedShape)}] must be the last dimensions of {x.Shape}");
        int[] axes = [.. Enumerable.Range(r - k, k)];
        var y = Standardize(x, axes, eps);
        if (weight is not null) y = y * weight;
        return bias is null ? y : y + bias;
    }

    /// <summary>(x − mean) / √(var + eps) over the axes, with the biased variance.</summary>
    private static Tensor Standardize(Tensor x, int[] axes, double eps)
    {
        var centered = x - Mean(x, axes, keepDims: true);
        return centered * Rsqrt(Mean(Square(centered), axes, keepDims: true) + eps);
    }

    /// <summary>
    /// Group normalization of [N, C, ...] over groups of C/<paramref name="numGroups"/> channels,
    /// as torch.nn.functional.group_norm.
    /// </summary>
    public static Tensor GroupNorm(Tensor x, int numGroups, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        if (x.Rank < 2 || numGroups <= 0 || x.Shape[1] % numGroups != 0)
            throw new GraphException($"group_norm: {x.Shape} needs channels on axis 1 divisible into {numGroups} groups");
        int rest = x.Shape.Dims.Skip(2).Aggregate(1, (a, b) => a * b) * (x.Shape[1] / numGroups);
        var grouped = Reshape(x, x.Shape[0] < 0 ? -1 : x.Shape[0], numGroups, rest);
        var y = Reshape(Standardize(grouped, [2], eps), ReshapeTarget(x.Shape));
        var perChannel = (int[])[x.Shape[1], .. Enumerable.Repeat(1, x.Rank - 2)];
        if (weight is not null) y = y * Reshape(weight, perChannel);
        return bias is null ? y : y + Reshape(bias, perChannel);
    }

    /// <summary>
    /// Rows of <paramref name="weight"/> [V, D] at integer <paramref name="indices"/> (any shape),
    /// as torch.nn.functional.embedding; the row at <paramref name="paddingIdx"/> gets no gradient.
    /// </summary>
    public static Tensor Embedding(Tensor indices, Tensor weight, int? paddingIdx = null)
    {
        if (!indices.DType.IsInteger())
            throw new GraphException($"embedding: indices '{indices.Name}' must be int32 or int64, not {indices.DType.ShortName()}");
        if (weight.Rank != 2) throw new GraphException($"embedding: weight {weight.Shape} must be [num_embeddings, embedding_dim]");
        var w = weight;
        if (paddingIdx is { } p)
        {
            if (p < 0 || p >= weight.Shape[0]) throw new GraphException($"embedding: padding_idx {p} is outside the {weight.Shape[0]} rows");
            // The same values, with the padding row's gradient stopped.
            var mask = NDArray.Ones(weight.DType, weight.Shape[0], 1);
            mask.SetDouble(p, 0);
            var keep = weight.Graph.Constant(mask, "padding_mask");
            w = weight * keep + StopGradient(weight) * (1.0 - keep);
        }
        return Gather(w, indices);
    }

    /// <summary>[N, C·r², H, W] to [N, C, H·r, W·r], as torch.nn.functional.pixel_shuffle.</summary>
    public static Tensor PixelShuffle(Tensor x, int upscale)
    {
        if (x.Rank != 4 || upscale < 1 || x.Shape[1] % (upscale * upscale) != 0)
            throw new GraphException($"pixel_shuffle: {x.Shape} must be [N, C·{upscale}², H, W]");
        int c = x.Shape[1] / (upscale * upscale), h = x.Shape[2], w = x.Shape[3];
        int n = x.Shape[0] < 0 ? -1 : x.Shape[0];
        var split = Reshape(x, n, c, upscale, upscale, h, w);
        return Reshape(Transpose(split, 0, 1, 4, 2, 5, 3), n, c, h * upscale, w * upscale);
    }

    /// <summary>Nearest-neighbour upsampling of [N, C, H, W] by an integer factor, as torch.nn.functional.interpolate(mode='nearest').</summary>
    public static Tensor UpsampleNearest(Tensor x, int scale)
    {
        if (x.Rank != 4 || scale < 1) throw new GraphException($"upsample: {x.Shape} must be [N, C, H, W] and the scale positive");
        int c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        int n = x.Shape[0] < 0 ? -1 : x.Shape[0];
        var rows = Reshape(x, n, c, h, 1, w, 1);
        var copied = Concat(Enumerable.Repeat(rows, scale).ToArray(), 3);
        copied = Concat(Enumerable.Repeat(copied, scale).ToArray(), 5);
        return Reshape(copied, n, c, h * scale, w * scale);
    }

    /// <summary>
    /// torch.nn.functional.interpolate of [N, C, H, W] to <paramref name="size"/> (or by
    /// <paramref name="scaleFactor"/>), <paramref name="mode"/> "nearest" or "bilinear" with PyTorch's
    /// source positions (<see cref="Resampling"/>). Separable: a matmul with the constant weights
    /// along each axis, so its gradient and every backend come with matmul's.
    /// </summary>
    public static Tensor Interpolate(Tensor x, (int H, int W)? size = null, double? scaleFactor = null, string mode = "nearest",
        bool alignCorners = false)
    {
        if (x.Rank != 4) throw new GraphException($"interpolate: {x.Shape} must be [N, C, H, W]");
        if ((size is null) == (scaleFactor is null)) throw new GraphException("interpolate: give exactly one of size and scaleFactor");
        if (mode is not ("nearest" or "bilinear")) throw new GraphException($"interpolate: mode '{mode}' is not 'nearest' or 'bilinear'");
        if (scaleFactor is <= 0) throw new GraphException($"interpolate: scale factor {scaleFactor} must be positive");
        int h = x.Shape[2], w = x.Shape[3];
        var (outH, outW) = size ?? ((int)Math.Floor(h * scaleFactor!.Value), (int)Math.Floor(w * scaleFactor.Value));
        if (outH < 1 || outW < 1) throw new GraphException($"interpolate: output size {outH}x{outW} of {x.Shape} must be positive");
        if (mode == "nearest" && scaleFactor is { } f && f == Math.Floor(f) && f >= 1) return UpsampleNearest(x, (int)f);
        double? scale = scaleFactor is { } sf ? 1 / sf : null; // PyTorch reads positions by the factor given
        double[,] Weights(int from, int to) =>
            mode == "nearest" ? Resampling.Nearest(from, to, scale) : Resampling.Linear(from, to, alignCorners, scale);
        Tensor Along(Tensor t, int from, int to) // resamples the last axis: t [.., from] · Wᵀ [from, to]
        {
            var m = Weights(from, to);
            var wt = NDArray.Zeros(t.DType, [from, to]);
            for (int i = 0; i < to; i++) for (int j = 0; j < from; j++) wt.SetDouble(j * to + i, m[i, j]);
            return MatMul(t, t.Graph.Constant(wt, "resample_weights"));
        }
        var alongW = Along(x, w, outW);
        return Transpose(Along(Transpose(alongW, 0, 1, 3, 2), h, outH), 0, 1, 3, 2);
    }

    /// <summary>
    /// Adaptive average pooling of [N, C, H, W] to [N, C, outH, outW], as PyTorch: window i spans
    /// [⌊i·H/out⌋, ⌈(i+1)·H/out⌉). Divisible sizes are one average pool; others a mean per window.
    /// </summary>
    public static Tensor AdaptiveAvgPool2d(Tensor x, int outH, int outW)
    {
        if (x.Rank != 4 || outH < 1 || outW < 1)
            throw new GraphException($"adaptive_avg_pool2d: {x.Shape} must be [N, C, H, W] and the output positive");
        int h = x.Shape[2], w = x.Shape[3];
        if (h % outH == 0 && w % outW == 0)
            return Pool2d(x, new PoolParams(PoolKind.Avg, [h / outH, w / outW], [h / outH, w / outW], [0, 0]));
        var rows = new List<Tensor>();
        for (int i = 0; i < outH; i++)
        {
            int h0 = i * h / outH, h1 = ((i + 1) * h + outH - 1) / outH;
            var cells = new List<Tensor>();
            for (int j = 0; j < outW; j++)
            {
                int w0 = j * w / outW, w1 = ((j + 1) * w + outW - 1) / outW;
                cells.Add(Mean(Slice(Slice(x, 2, h0, h1 - h0), 3, w0, w1 - w0), [2, 3], keepDims: true));
            }
            rows.Add(cells.Count == 1 ? cells[0] : Concat(cells, 3));
        }
        return rows.Count == 1 ? rows[0] : Concat(rows, 2);
    }
}

public static partial class F
{
    /// <summary>
    /// Batch normalization of [N, C] or [N, C, ...] over all axes but the channels (axis 1), as
    /// torch.nn.functional.batch_norm: in training (<paramref name="training"/>, default the graph's
    /// switch) by the batch's mean and biased variance, also moving the running statistics toward
    /// the batch's (the unbiased variance, by <paramref name="momentum"/>) with updates registered
    /// in <see cref="Graph.UpdateOps"/>, which the train op runs; in evaluation by the running ones.
    /// </summary>
    public static Tensor BatchNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor? weight = null, Tensor? bias = null,
        Tensor? training = null, double momentum = 0.1, double eps = 1e-5)
    {
        if (x.Rank < 2) throw new GraphException($"batch_norm: {x.Shape} needs channels on axis 1 ([N, C] or [N, C, ...])");
        int c = x.Shape[1];
        if (runningMean.Shape != new Shape(c) || runningVar.Shape != new Shape(c))
            throw new GraphException($"batch_norm: running statistics {runningMean.Shape} and {runningVar.Shape} must be [{c}] for {x.Shape}");
        var g = x.Graph;
        var train = training ?? g.Training;
        int[] axes = [0, .. Enumerable.Range(2, x.Rank - 2)];
        int[] perChannel = [c, .. Enumerable.Repeat(1, x.Rank - 2)];
        Tensor Channels(Tensor t) => x.Rank == 2 ? t : Reshape(t, perChannel);
        var mean = Mean(x, axes, keepDims: true);
        var centered = x - mean;
        var variance = Mean(Square(centered), axes, keepDims: true);
        var byBatch = centered * Rsqrt(variance + eps);
        var byRunning = (x - Channels(runningMean)) * Rsqrt(Channels(runningVar) + eps);
        var y = Where(train, byBatch, byRunning);
        if (weight is not null) y = y * Channels(weight);
        if (bias is not null) y = y + Channels(bias);
        // The running statistics move only in training; the variance kept is the unbiased one.
        var count = CountOf(x, axes);
        var batchMean = Reshape(StopGradient(mean), c);
        var unbiased = Reshape(StopGradient(variance), c) * (count / (count - 1.0));
        g.AddUpdate(runningMean, r => Where(train, Lerp(r, batchMean, momentum), r));
        g.AddUpdate(runningVar, r => Where(train, Lerp(r, unbiased, momentum), r));
        return y;
    }
}
