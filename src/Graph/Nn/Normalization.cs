namespace GraphNet.Nn;

/// <summary>LayerNorm over the last dimensions, as torch.nn.LayerNorm: weight ones and bias zeros of the normalized shape.</summary>
public sealed class LayerNorm : Module
{
    private readonly int[] shape;
    private readonly double eps;

    public LayerNorm(Graph g, string name, int[] normalizedShape, double eps = 1e-5, bool elementwiseAffine = true) : base(g, name)
    {
        shape = normalizedShape; this.eps = eps;
        if (elementwiseAffine)
        {
            Weight = Parameter("weight", normalizedShape, Initializer.Ones);
            Bias = Parameter("bias", normalizedShape, Initializer.Zeros);
        }
    }

    public Tensor? Weight { get; }
    public Tensor? Bias { get; }

    public Tensor Forward(Tensor x)
    {
        using var _ = Graph.NameScope(Name);
        return F.LayerNorm(x, shape, Weight, Bias, eps);
    }
}

/// <summary>GroupNorm of [N, C, ...], as torch.nn.GroupNorm: per-channel weight ones and bias zeros.</summary>
public sealed class GroupNorm : Module
{
    private readonly int groups;
    private readonly double eps;

    public GroupNorm(Graph g, string name, int numGroups, int numChannels, double eps = 1e-5, bool affine = true) : base(g, name)
    {
        if (numGroups <= 0 || numChannels % numGroups != 0)
            throw new GraphException($"GroupNorm '{name}': {numChannels} channels do not split into {numGroups} groups");
        groups = numGroups; this.eps = eps;
        if (affine)
        {
            Weight = Parameter("weight", [numChannels], Initializer.Ones);
            Bias = Parameter("bias", [numChannels], Initializer.Zeros);
        }
    }

    public Tensor? Weight { get; }
    public Tensor? Bias { get; }

    public Tensor Forward(Tensor x)
    {
        using var _ = Graph.NameScope(Name);
        return F.GroupNorm(x, groups, Weight, Bias, eps);
    }
}

/// <summary>
/// A lookup table, as torch.nn.Embedding: weight [numEmbeddings, embeddingDim] drawn from N(0, 1),
/// the row at <c>paddingIdx</c> zero and never updated.
/// </summary>
public sealed class Embedding : Module
{
    private readonly int? paddingIdx;

    public Embedding(Graph g, string name, int numEmbeddings, int embeddingDim, int? paddingIdx = null) : base(g, name)
    {
        this.paddingIdx = paddingIdx;
        Initializer init = Initializer.Normal(0, 1);
        if (paddingIdx is { } p)
        {
            if (p < 0 || p >= numEmbeddings) throw new GraphException($"Embedding '{name}': padding_idx {p} is outside its {numEmbeddings} rows");
            init = new ZeroRowInit(init, p);
        }
        Weight = Parameter("weight", [numEmbeddings, embeddingDim], init);
    }

    public Tensor Weight { get; }

    public Tensor Forward(Tensor indices)
    {
        using var _ = Graph.NameScope(Name);
        return F.Embedding(indices, Weight, paddingIdx);
    }
}

/// <summary>Returns its input, as torch.nn.Identity (a placeholder in a list of layers).</summary>
public sealed class Identity(Graph g, string name = "identity") : Module(g, name)
{
    public Tensor Forward(Tensor x) => x;
}
