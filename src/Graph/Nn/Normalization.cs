namespace GraphNet.Nn;

/// <summary>LayerNorm over the last dimensions, as torch.nn.LayerNorm: weight ones and bias zeros of the normalized shape.</summary>
public sealed class LayerNorm : Module
{
    private readonly int[] shape;
    private readonly double eps;

    public LayerNorm(Graph g, string name, int[] normalizedShape, double eps = 1e-5, bool elementwiseAffine = true) : base(g, name)
    {
        shape = normalizedShape; this.eps = eps;
        if (elementwiseAffine) (Weight, Bias) = Affine(normalizedShape);
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
        if (affine) (Weight, Bias) = Affine([numChannels]);
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

/// <summary>
/// Batch normalization, as torch.nn.BatchNorm1d/2d: weight ones, bias zeros, running_mean zeros
/// and running_var ones (not trained; PyTorch's buffers), momentum 0.1, eps 1e-5. The graph's
/// training switch chooses batch or running statistics; the train op updates the running ones.
/// </summary>
public abstract class BatchNormBase : Module
{
    private readonly double momentum, eps;
    private readonly int rank;

    protected BatchNormBase(Graph g, string name, int numFeatures, int rank, double eps, double momentum, bool affine) : base(g, name)
    {
        this.rank = rank; this.eps = eps; this.momentum = momentum;
        if (affine) (Weight, Bias) = Affine([numFeatures]);
        RunningMean = g.Variable($"{name}.running_mean", [numFeatures], Initializer.Zeros, trainable: false);
        RunningVar = g.Variable($"{name}.running_var", [numFeatures], Initializer.Ones, trainable: false);
    }

    public Tensor? Weight { get; }
    public Tensor? Bias { get; }
    public Tensor RunningMean { get; }
    public Tensor RunningVar { get; }

    public Tensor Forward(Tensor x)
    {
        if (!(rank == 4 ? x.Rank == 4 : x.Rank is 2 or 3))
            throw new GraphException($"{GetType().Name} '{Name}' expects {(rank == 4 ? "[N, C, H, W]" : "[N, C] or [N, C, L]")}, got {x.Shape}");
        using var _ = Graph.NameScope(Name);
        return F.BatchNorm(x, RunningMean, RunningVar, Weight, Bias, momentum: momentum, eps: eps);
    }
}

/// <summary>BatchNorm1d over [N, C] or [N, C, L].</summary>
public sealed class BatchNorm1d(Graph g, string name, int numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = true)
    : BatchNormBase(g, name, numFeatures, 2, eps, momentum, affine);

/// <summary>BatchNorm2d over [N, C, H, W].</summary>
public sealed class BatchNorm2d(Graph g, string name, int numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = true)
    : BatchNormBase(g, name, numFeatures, 4, eps, momentum, affine);
