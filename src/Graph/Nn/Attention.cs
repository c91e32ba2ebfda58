namespace GraphNet.Nn;

/// <summary>
/// PyTorch's <c>nn.MultiheadAttention</c>: parameters in_proj_weight [3E, E] (the query, key and
/// value projections stacked, xavier-uniform), in_proj_bias [3E] (zeros) and out_proj (a Linear,
/// its bias zeros). Inputs are [L, N, E] ([N, L, E] with <see cref="BatchFirst"/>). Masks as
/// PyTorch's: a bool attn_mask [L, S] (or [N·heads, L, S]) or key_padding_mask [N, S] is true
/// where attending is not allowed; a float one is added to the scores.
/// </summary>
public sealed class MultiheadAttention : Module
{
    private readonly Parameter inProjWeight;
    private readonly Parameter? inProjBias;
    [StateName("out_proj")] private readonly Linear outProj;

    public MultiheadAttention(int embedDim, int numHeads, double dropout = 0, bool bias = true, bool batchFirst = false,
        DType dtype = DType.Float32)
    {
        if (numHeads < 1 || embedDim % numHeads != 0)
            throw new GraphException($"MultiheadAttention: embed_dim {embedDim} must be divisible by num_heads {numHeads}");
        if (dropout is < 0 or > 1) throw new GraphException($"MultiheadAttention: dropout {dropout} must be in [0, 1]");
        (EmbedDim, NumHeads, Dropout, BatchFirst) = (embedDim, numHeads, dropout, batchFirst);
        inProjWeight = RegisterParameter("in_proj_weight", [3 * embedDim, embedDim], Init.XavierUniform(), dtype);
        if (bias) inProjBias = RegisterParameter("in_proj_bias", [3 * embedDim], Init.Zeros, dtype);
        outProj = new Linear(embedDim, embedDim, bias, biasInit: Init.Zeros, dtype: dtype);
    }

    public MultiheadAttention(Graph g, string name, int embedDim, int numHeads, double dropout = 0, bool bias = true,
        bool batchFirst = false, DType dtype = DType.Float32)
        : this(embedDim, numHeads, dropout, bias, batchFirst, dtype) => BindAs(g, name);

    public int EmbedDim { get; }
    public int NumHeads { get; }
    public double Dropout { get; }
    public bool BatchFirst { get; }

    /// <summary>
    /// As PyTorch's <c>attn_output, attn_weights = mha(query, key, value, ...)</c>: the output
    /// [L, N, E] and, with <paramref name="needWeights"/>, the weights [N, L, S] (averaged over the
    /// heads, or [N, heads, L, S]); <paramref name="isCausal"/> masks later keys when no attn_mask is given.
    /// </summary>
    public (Tensor Output, Tensor? Weights) Forward(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask = null,
        bool needWeights = true, Tensor? attnMask = null, bool averageAttnWeights = true, bool isCausal = false)
    {
        foreach (var (t, what) in new[] { (query, "query"), (key, "key"), (value, "value") })
            if (t.Rank != 3 || t.Shape[2] != EmbedDim)
                throw new GraphException($"{this}: {what} must be [{(BatchFirst ? "N, L" : "L, N")}, {EmbedDim}], got {t.Shape}");
        using var _ = Enter(query);
        Tensor BatchFirstOf(Tensor t) => BatchFirst ? t : F.Transpose(t, 1, 0, 2);
        var (q, k, v) = (BatchFirstOf(query), BatchFirstOf(key), BatchFirstOf(value));
        int L = q.Shape[1], S = k.Shape[1], d = EmbedDim / NumHeads;
        Tensor Project(Tensor x, int part)
        {
            var w = F.Slice(inProjWeight, 0, part * EmbedDim, EmbedDim);
            var p = F.MatMul(x, w, transB: true);
            if (inProjBias is not null) p += F.Slice(inProjBias, 0, part * EmbedDim, EmbedDim);
            // [N, T, E] → [N, heads, T, d]
            return F.Transpose(F.Reshape(p, -1, x.Shape[1], NumHeads, d), 0, 2, 1, 3);
        }
        var (qh, kh, vh) = (Project(q, 0), Project(k, 1), Project(v, 2));
        var bias = F.AttentionBias(qh, kh, attnMask is null ? null : HeadMask(attnMask, L, S), isCausal && attnMask is null, maskAllows: false);
        if (keyPaddingMask is not null)
        {
            if (keyPaddingMask.Rank != 2 || keyPaddingMask.Shape[1] != S)
                throw new GraphException($"{this}: key_padding_mask must be [N, {S}], got {keyPaddingMask.Shape}");
            var padding = F.Reshape(keyPaddingMask.DType == DType.Bool ? F.BoolMaskBias(keyPaddingMask, q.DType, trueAllows: false) : keyPaddingMask,
                -1, 1, 1, S);
            bias = bias is null ? padding : bias + padding;
        }
        var weights = F.AttentionWeights(qh, kh, bias, null);
        if (Dropout > 0) weights = F.Dropout(weights, Dropout, TrainingSwitch(query.Graph));
        var heads = F.MatMul(weights, vh); // [N, heads, L, d]
        var output = outProj.Forward(F.Reshape(F.Transpose(heads, 0, 2, 1, 3), -1, L, EmbedDim));
        if (!BatchFirst) output = F.Transpose(output, 1, 0, 2);
        return (output, !needWeights ? null : averageAttnWeights ? F.Mean(weights, [1]) : weights);
    }

    /// <summary>An attn_mask [L, S] as is; [N·heads, L, S] as [N, heads, L, S].</summary>
    private Tensor HeadMask(Tensor mask, int L, int S)
    {
        if (mask.Rank == 2 && mask.Shape[0] == L && mask.Shape[1] == S) return mask;
        if (mask.Rank == 3 && mask.Shape[1] == L && mask.Shape[2] == S) return F.Reshape(mask, -1, NumHeads, L, S);
        throw new GraphException($"{this}: attn_mask must be [{L}, {S}] or [N·{NumHeads}, {L}, {S}], got {mask.Shape}");
    }
}

/// <summary>
/// PyTorch's <c>nn.TransformerEncoderLayer</c>: self-attention and a feed-forward block (linear1,
/// activation, dropout, linear2), each with dropout and a residual, and LayerNorm after each
/// (or before, with <see cref="NormFirst"/>). Submodules named as PyTorch's: self_attn, linear1,
/// dropout, linear2, norm1, norm2, dropout1, dropout2.
/// </summary>
public sealed class TransformerEncoderLayer : Module
{
    [StateName("self_attn")] private readonly MultiheadAttention selfAttn;
    private readonly Linear linear1, linear2;
    private readonly Dropout dropout, dropout1, dropout2;
    private readonly LayerNorm norm1, norm2;
    private readonly string activation;

    /// <summary>PyTorch's arguments and defaults; <c>activation</c> is "relu" or "gelu".</summary>
    public TransformerEncoderLayer(int dModel, int nhead, int dimFeedforward = 2048, double dropout = 0.1, string activation = "relu",
        double layerNormEps = 1e-5, bool batchFirst = false, bool normFirst = false, bool bias = true, DType dtype = DType.Float32)
    {
        this.activation = Activation(activation);
        NormFirst = normFirst;
        selfAttn = new MultiheadAttention(dModel, nhead, dropout, bias, batchFirst, dtype);
        linear1 = new Linear(dModel, dimFeedforward, bias, dtype: dtype);
        this.dropout = new Dropout(dropout);
        linear2 = new Linear(dimFeedforward, dModel, bias, dtype: dtype);
        norm1 = new LayerNorm([dModel], layerNormEps, dtype: dtype);
        norm2 = new LayerNorm([dModel], layerNormEps, dtype: dtype);
        dropout1 = new Dropout(dropout);
        dropout2 = new Dropout(dropout);
    }

    public bool NormFirst { get; }

    internal static string Activation(string name) => name is "relu" or "gelu" ? name
        : throw new GraphException($"Transformer layer: activation '{name}' is not supported; use \"relu\" or \"gelu\"");

    internal static Tensor Activate(string name, Tensor x) => name == "gelu" ? F.Gelu(x) : F.Relu(x);

    public override Tensor Forward(Tensor src) => Forward(src, null);

    /// <summary>As PyTorch's <c>layer(src, src_mask, src_key_padding_mask, is_causal)</c>.</summary>
    public Tensor Forward(Tensor src, Tensor? srcMask, Tensor? srcKeyPaddingMask = null, bool isCausal = false)
    {
        using var _ = Enter(src);
        Tensor SelfAttention(Tensor x) =>
            dropout1.Forward(selfAttn.Forward(x, x, x, srcKeyPaddingMask, needWeights: false, srcMask, isCausal: isCausal).Output);
        Tensor FeedForward(Tensor x) => dropout2.Forward(linear2.Forward(dropout.Forward(Activate(activation, linear1.Forward(x)))));
        var y = src;
        if (NormFirst)
        {
            y = y + SelfAttention(norm1.Forward(y));
            return y + FeedForward(norm2.Forward(y));
        }
        y = norm1.Forward(y + SelfAttention(y));
        return norm2.Forward(y + FeedForward(y));
    }
}

/// <summary>
/// PyTorch's <c>nn.TransformerDecoderLayer</c>: self-attention, attention over the encoder's
/// memory, and a feed-forward block, each with dropout, a residual and LayerNorm (after, or
/// before with <see cref="NormFirst"/>). Submodules: self_attn, multihead_attn, linear1, dropout,
/// linear2, norm1, norm2, norm3, dropout1, dropout2, dropout3.
/// </summary>
public sealed class TransformerDecoderLayer : Module
{
    [StateName("self_attn")] private readonly MultiheadAttention selfAttn;
    [StateName("multihead_attn")] private readonly MultiheadAttention multiheadAttn;
    private readonly Linear linear1, linear2;
    private readonly Dropout dropout, dropout1, dropout2, dropout3;
    private readonly LayerNorm norm1, norm2, norm3;
    private readonly string activation;

    /// <summary>PyTorch's arguments and defaults; <c>activation</c> is "relu" or "gelu".</summary>
    public TransformerDecoderLayer(int dModel, int nhead, int dimFeedforward = 2048, double dropout = 0.1, string activation = "relu",
        double layerNormEps = 1e-5, bool batchFirst = false, bool normFirst = false, bool bias = true, DType dtype = DType.Float32)
    {
        this.activation = TransformerEncoderLayer.Activation(activation);
        NormFirst = normFirst;
        selfAttn = new MultiheadAttention(dModel, nhead, dropout, bias, batchFirst, dtype);
        multiheadAttn = new MultiheadAttention(dModel, nhead, dropout, bias, batchFirst, dtype);
        linear1 = new Linear(dModel, dimFeedforward, bias, dtype: dtype);
        this.dropout = new Dropout(dropout);
        linear2 = new Linear(dimFeedforward, dModel, bias, dtype: dtype);
        norm1 = new LayerNorm([dModel], layerNormEps, dtype: dtype);
        norm2 = new LayerNorm([dModel], layerNormEps, dtype: dtype);
        norm3 = new LayerNorm([dModel], layerNormEps, dtype: dtype);
        dropout1 = new Dropout(dropout);
        dropout2 = new Dropout(dropout);
        dropout3 = new Dropout(dropout);
    }

    public bool NormFirst { get; }

    /// <summary>
    /// As PyTorch's <c>layer(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask, tgt_is_causal)</c>.
    /// </summary>
    public Tensor Forward(Tensor tgt, Tensor memory, Tensor? tgtMask = null, Tensor? memoryMask = null, Tensor? tgtKeyPaddingMask = null,
        Tensor? memoryKeyPaddingMask = null, bool tgtIsCausal = false)
    {
        using var _ = Enter(tgt);
        Tensor SelfAttention(Tensor x) =>
            dropout1.Forward(selfAttn.Forward(x, x, x, tgtKeyPaddingMask, needWeights: false, tgtMask, isCausal: tgtIsCausal).Output);
        Tensor Cross(Tensor x) =>
            dropout2.Forward(multiheadAttn.Forward(x, memory, memory, memoryKeyPaddingMask, needWeights: false, memoryMask).Output);
        Tensor FeedForward(Tensor x) =>
            dropout3.Forward(linear2.Forward(dropout.Forward(TransformerEncoderLayer.Activate(activation, linear1.Forward(x)))));
        var y = tgt;
        if (NormFirst)
        {
            y = y + SelfAttention(norm1.Forward(y));
            y = y + Cross(norm2.Forward(y));
            return y + FeedForward(norm3.Forward(y));
        }
        y = norm1.Forward(y + SelfAttention(y));
        y = norm2.Forward(y + Cross(y));
        return norm3.Forward(y + FeedForward(y));
    }
}

/// <summary>
/// PyTorch's <c>nn.TransformerEncoder</c>: <c>numLayers</c> encoder layers in turn (made by
/// <paramref name="layer"/>, each with its own parameters: layers.0.self_attn.in_proj_weight, ...),
/// then an optional final norm.
/// </summary>
public sealed class TransformerEncoder(Func<TransformerEncoderLayer> layer, int numLayers, LayerNorm? norm = null) : Module
{
    private readonly ModuleList<TransformerEncoderLayer> layers = new(Enumerable.Range(0, numLayers).Select(_ => layer()));
    private readonly LayerNorm? norm = norm;

    public override Tensor Forward(Tensor src) => Forward(src, null);

    /// <summary>As PyTorch's <c>encoder(src, mask, src_key_padding_mask, is_causal)</c>.</summary>
    public Tensor Forward(Tensor src, Tensor? mask, Tensor? srcKeyPaddingMask = null, bool isCausal = false)
    {
        using var _ = Enter(src);
        var y = src;
        foreach (var l in layers) y = l.Forward(y, mask, srcKeyPaddingMask, isCausal);
        return norm is null ? y : norm.Forward(y);
    }
}

/// <summary>
/// The sinusoidal positional encoding of pytorch/examples' word_language_model: x [T, N, d] plus
/// pe[:T] (pe[t, 2i] = sin(t / 10000^(2i/d)), pe[t, 2i+1] = cos of the same), then dropout; pe is
/// the buffer "pe" [maxLen, 1, d], as the original registers it.
/// </summary>
public sealed class PositionalEncoding : Module
{
    private readonly Parameter pe;
    private readonly Dropout dropout;

    public PositionalEncoding(int dModel, double dropout = 0.1, int maxLen = 5000, DType dtype = DType.Float32)
    {
        var values = NDArray.Zeros(dtype, maxLen, 1, dModel);
        for (int t = 0; t < maxLen; t++)
            for (int i = 0; i < dModel; i += 2)
            {
                double angle = t * Math.Exp(i * (-Math.Log(10000.0) / dModel));
                values.SetDouble(t * dModel + i, Math.Sin(angle));
                if (i + 1 < dModel) values.SetDouble(t * dModel + i + 1, Math.Cos(angle));
            }
        pe = RegisterBuffer("pe", [maxLen, 1, dModel], Initializer.FromValue(values), dtype);
        this.dropout = new Dropout(dropout);
    }

    public override Tensor Forward(Tensor x)
    {
        using var _ = Enter(x);
        Tensor table = pe;
        if (x.Rank != 3 || x.Shape[0] > table.Shape[0] || x.Shape[2] != table.Shape[2])
            throw new GraphException($"{this}: input must be [T ≤ {table.Shape[0]}, N, {table.Shape[2]}], got {x.Shape}");
        return dropout.Forward(x + F.Slice(table, 0, 0, x.Shape[0]));
    }
}
