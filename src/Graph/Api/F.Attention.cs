namespace GraphNet;

public static partial class F
{
    /// <summary>
    /// torch.nn.functional.scaled_dot_product_attention: softmax(q kᵀ · scale + bias) v over the
    /// last two axes of q [.., L, E], k [.., S, E] and v [.., S, Ev]. <paramref name="attnMask"/>
    /// is bool (true: may attend; false: −∞) or float (added), broadcast to [.., L, S];
    /// <paramref name="isCausal"/> masks every key after its query; scale defaults to 1/√E. Dropout
    /// on the weights at <paramref name="dropoutP"/> runs where <paramref name="training"/> is true
    /// (always when it is null, as PyTorch's function does). A query row with nothing to attend to
    /// is NaN, as in PyTorch.
    /// </summary>
    public static Tensor ScaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor? attnMask = null, double dropoutP = 0,
        bool isCausal = false, double? scale = null, Tensor? training = null)
    {
        if (q.Rank < 2 || k.Rank != q.Rank || v.Rank != q.Rank)
            throw new GraphException($"scaled_dot_product_attention: q {q.Shape}, k {k.Shape} and v {v.Shape} need one rank, at least 2");
        var weights = AttentionWeights(q, k, AttentionBias(q, k, attnMask, isCausal, maskAllows: true), scale);
        if (dropoutP > 0) weights = Dropout(weights, dropoutP, training);
        return MatMul(weights, v);
    }

    /// <summary>softmax(q kᵀ · scale + bias) over the keys: attention weights [.., L, S].</summary>
    internal static Tensor AttentionWeights(Tensor q, Tensor k, Tensor? bias, double? scale)
    {
        int e = q.Shape[^1];
        var scores = MatMul(q, k, transB: true) * (scale ?? 1 / Math.Sqrt(e));
        return Softmax(bias is null ? scores : scores + bias, -1);
    }

    /// <summary>
    /// The additive bias [L, S] (or the mask's shape) of a mask and the causal rule: bool masks
    /// become 0 where attending is allowed and −∞ where not (<paramref name="maskAllows"/>: whether
    /// true allows, as in scaled_dot_product_attention, or forbids, as in nn.MultiheadAttention).
    /// </summary>
    internal static Tensor? AttentionBias(Tensor q, Tensor k, Tensor? mask, bool isCausal, bool maskAllows)
    {
        var g = q.Graph;
        Tensor? bias = null;
        if (isCausal) bias = CausalMask(g, q.Shape[^2], k.Shape[^2], q.DType);
        if (mask is not null)
        {
            var m = mask.DType == DType.Bool ? BoolMaskBias(mask, q.DType, maskAllows) : mask;
            if (m.DType != q.DType)
                throw new GraphException($"attention: a float mask must be {q.DType.ShortName()} like the queries, got {mask.Type}");
            bias = bias is null ? m : bias + m;
        }
        return bias;
    }

    internal static Tensor BoolMaskBias(Tensor mask, DType dtype, bool trueAllows)
    {
        var g = mask.Graph;
        Tensor zero = g.Scalar(0, dtype), minusInf = g.Scalar(double.NegativeInfinity, dtype);
        return trueAllows ? Where(mask, zero, minusInf) : Where(mask, minusInf, zero);
    }

    /// <summary>
    /// The causal mask as an additive bias, as nn.Transformer.generate_square_subsequent_mask:
    /// [L, S] (square by default) of 0 on and below the diagonal and −∞ above it.
    /// </summary>
    public static Tensor CausalMask(Graph g, int size, int? keys = null, DType dtype = DType.Float32)
    {
        int s = keys ?? size;
        var mask = NDArray.Zeros(dtype, size, s);
        for (int i = 0; i < size; i++)
            for (int j = i + 1; j < s; j++) mask.SetDouble(i * s + j, double.NegativeInfinity);
        return g.Constant(mask, "causal_mask");
    }
}
