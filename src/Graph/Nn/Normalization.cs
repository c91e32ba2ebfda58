namespace GraphNet.Nn;

/// <summary>LayerNorm over the last dimensions, as torch.nn.LayerNorm: weight ones and bias zeros of the normalized shape.</summary>
public sealed class LayerNorm : Module
{
    private readonly int[] shape;
    private readonly double eps;
    private readonly Parameter? weight, bias;

    public LayerNorm(int[] normalizedShape, double eps = 1e-5, bool elementwiseAffine = true, DType dtype = DType.Float32)
    {
        shape = normalizedShape; this.eps = eps;
        if (elementwiseAffine) (weight, bias) = Affine(normalizedShape, dtype);
    }

    public LayerNorm(Graph g, string name, int[] normalizedShape, double eps = 1e-5, bool elementwiseAffine = true,
        DType dtype = DType.Float32) : this(normalizedShape, eps, elementwiseAffine, dtype) => BindAs(g, name);

    public Tensor? Weight => weight?.Tensor;
    public Tensor? Bias => bias?.Tensor;

    public override Tensor Forward(Tensor x)
    {
        using var _ = Enter(x);
        return F.LayerNorm(x, shape, Weight, Bias, eps);
    }
}

/// <summary>GroupNorm of [N, C, ...], as torch.nn.GroupNorm: per-channel weight ones and bias zeros.</summary>
public sealed class GroupNorm : Module
{
    private readonly int groups;
    private readonly double eps;
    private readonly Parameter? weight, bias;

    public GroupNorm(int numGroups, int numChannels, double eps = 1e-5, bool affine = true, DType dtype = DType.Float32)
    {
        if (numGroups <= 0 || numChannels % numGroups != 0)
            throw new GraphException($"GroupNorm: {numChannels} channels do not split into {numGroups} groups");
        groups = numGroups; this.eps = eps;
        if (affine) (weight, bias) = Affine([numChannels], dtype);
    }

    public GroupNorm(Graph g, string name, int numGroups, int numChannels, double eps = 1e-5, bool affine = true,
        DType dtype = DType.Float32) : this(numGroups, numChannels, eps, affine, dtype) => BindAs(g, name);

    public Tensor? Weight => weight?.Tensor;
    public Tensor? Bias => bias?.Tensor;

    public override Tensor Forward(Tensor x)
    {
        using var _ = Enter(x);
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
    private readonly Parameter weight;

    public Embedding(int numEmbeddings, int embeddingDim, int? paddingIdx = null, Initializer? weightInit = null,
        DType dtype = DType.Float32)
    {
        this.paddingIdx = paddingIdx;
        Initializer init = weightInit ?? Initializer.Normal(0, 1);
        if (paddingIdx is { } p)
        {
            if (p < 0 || p >= numEmbeddings) throw new GraphException($"Embedding: padding_idx {p} is outside its {numEmbeddings} rows");
            init = new ZeroRowInit(init, p);
        }
        weight = RegisterParameter("weight", [numEmbeddings, embeddingDim], init, dtype);
    }

    public Embedding(Graph g, string name, int numEmbeddings, int embeddingDim, int? paddingIdx = null,
        Initializer? weightInit = null, DType dtype = DType.Float32)
        : this(numEmbeddings, embeddingDim, paddingIdx, weightInit, dtype) => BindAs(g, name);

    public Tensor Weight => weight;

    public override Tensor Forward(Tensor indices)
    {
        using var _ = Enter(indices);
        return F.Embedding(indices, Weight, paddingIdx);
    }
}

/// <summary>Returns its input, as torch.nn.Identity (a placeholder in a list of layers).</summary>
public sealed class Identity : Module
{
    public Identity() { }
    public Identity(Graph g, string name = "identity") => BindAs(g, name);
    public override Tensor Forward(Tensor x) => x;
}

/// <summary>
/// Batch normalization, as torch.nn.BatchNorm1d/2d: weight ones, bias zeros, running_mean zeros
/// and running_var ones (buffers, not trained), momentum 0.1, eps 1e-5. Training mode (the
/// module's and the graph's switch) uses batch statistics and the train op updates the running ones.
/// </summary>
public abstract class BatchNormBase : Module
{
    private readonly double momentum, eps;
    private readonly int rank;
    private readonly Parameter? weight, bias;
    private readonly Parameter runningMean, runningVar;

    protected BatchNormBase(int numFeatures, int rank, double eps, double momentum, bool affine, DType dtype)
    {
        this.rank = rank; this.eps = eps; this.momentum = momentum;
        if (affine) (weight, bias) = Affine([numFeatures], dtype);
        runningMean = RegisterBuffer("running_mean", [numFeatures], Initializer.Zeros, dtype);
        runningVar = RegisterBuffer("running_var", [numFeatures], Initializer.Ones, dtype);
    }

    public Tensor? Weight => weight?.Tensor;
    public Tensor? Bias => bias?.Tensor;
    public Tensor RunningMean => runningMean;
    public Tensor RunningVar => runningVar;

    public override Tensor Forward(Tensor x)
    {
        if (!(rank == 4 ? x.Rank == 4 : x.Rank is 2 or 3))
            throw new GraphException($"{this} expects {(rank == 4 ? "[N, C, H, W]" : "[N, C] or [N, C, L]")}, got {x.Shape}");
        using var _ = Enter(x);
        return F.BatchNorm(x, RunningMean, RunningVar, Weight, Bias, TrainingSwitch(x.Graph), momentum, eps);
    }
}

/// <summary>BatchNorm1d over [N, C] or [N, C, L].</summary>
public sealed class BatchNorm1d : BatchNormBase
{
    public BatchNorm1d(int numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = true, DType dtype = DType.Float32)
        : base(numFeatures, 2, eps, momentum, affine, dtype) { }

    public BatchNorm1d(Graph g, string name, int numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = true,
        DType dtype = DType.Float32) : this(numFeatures, eps, momentum, affine, dtype) => BindAs(g, name);
}

/// <summary>BatchNorm2d over [N, C, H, W].</summary>
public sealed class BatchNorm2d : BatchNormBase
{
    public BatchNorm2d(int numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = true, DType dtype = DType.Float32)
        : base(numFeatures, 4, eps, momentum, affine, dtype) { }

    public BatchNorm2d(Graph g, string name, int numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = true,
        DType dtype = DType.Float32) : this(numFeatures, eps, momentum, affine, dtype) => BindAs(g, name);
}
