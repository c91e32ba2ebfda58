namespace GraphNet.Nn;

/// <summary>A layer with named parameters, PyTorch style ("conv1.weight").</summary>
public abstract class Module(Graph graph, string name)
{
    private readonly List<Tensor> parameters = [];
    public Graph Graph { get; } = graph;
    public string Name { get; } = name;
    public IReadOnlyList<Tensor> Parameters => parameters;

    protected Tensor Parameter(string suffix, int[] shape, Initializer init)
    {
        var v = Graph.Variable($"{Name}.{suffix}", shape, init);
        parameters.Add(v);
        return v;
    }

    /// <summary>A normalization's elementwise affine: weight ones and bias zeros, as PyTorch's.</summary>
    protected (Tensor Weight, Tensor Bias) Affine(int[] shape) =>
        (Parameter("weight", shape, Initializer.Ones), Parameter("bias", shape, Initializer.Zeros));

    /// <summary>PyTorch's default for weights and biases: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).</summary>
    protected static Initializer FanInUniform(int fanIn) { double b = 1 / Math.Sqrt(fanIn); return Initializer.Uniform(-b, b); }
}

/// <summary>y = x Wᵀ + b, with weight [out, in] and bias [out].</summary>
public sealed class Linear : Module
{
    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    /// <summary>
    /// PyTorch's initialization unless <paramref name="weightInit"/>/<paramref name="biasInit"/> are
    /// given (see <see cref="Init"/>).
    /// </summary>
    public Linear(Graph g, string name, int inFeatures, int outFeatures, bool bias = true, Initializer? weightInit = null,
        Initializer? biasInit = null) : base(g, name)
    {
        Weight = Parameter("weight", [outFeatures, inFeatures], weightInit ?? FanInUniform(inFeatures));
        if (bias) Bias = Parameter("bias", [outFeatures], biasInit ?? FanInUniform(inFeatures));
    }

    public Tensor Forward(Tensor x)
    {
        using var _ = Graph.NameScope(Name);
        var y = F.MatMul(x, Weight, transB: true);
        return Bias is null ? y : y + Bias;
    }
}

/// <summary>2-D convolution layer with weight [out, in/groups, k, k].</summary>
public sealed class Conv2d : Module
{
    private readonly int stride, padding, dilation, groups;
    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    public Conv2d(Graph g, string name, int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0,
        int dilation = 1, int groups = 1, bool bias = true, Initializer? weightInit = null, Initializer? biasInit = null) : base(g, name)
    {
        (this.stride, this.padding, this.dilation, this.groups) = (stride, padding, dilation, groups);
        int fanIn = inChannels / groups * kernelSize * kernelSize;
        Weight = Parameter("weight", [outChannels, inChannels / groups, kernelSize, kernelSize], weightInit ?? FanInUniform(fanIn));
        if (bias) Bias = Parameter("bias", [outChannels], biasInit ?? FanInUniform(fanIn));
    }

    public Tensor Forward(Tensor x)
    {
        using var _ = Graph.NameScope(Name);
        return F.Conv2d(x, Weight, Bias, stride, padding, dilation, groups);
    }
}

/// <summary>Transposed convolution layer with weight [in, out/groups, k, k] (PyTorch's layout and init).</summary>
public sealed class ConvTranspose2d : Module
{
    private readonly int stride, padding, outputPadding, groups;
    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    public ConvTranspose2d(Graph g, string name, int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int outputPadding = 0, int groups = 1, bool bias = true) : base(g, name)
    {
        (this.stride, this.padding, this.outputPadding, this.groups) = (stride, padding, outputPadding, groups);
        // PyTorch computes fan_in from weight.size(1) * k * k for transposed convolutions.
        int fanIn = outChannels / groups * kernelSize * kernelSize;
        Weight = Parameter("weight", [inChannels, outChannels / groups, kernelSize, kernelSize], FanInUniform(fanIn));
        if (bias) Bias = Parameter("bias", [outChannels], FanInUniform(fanIn));
    }

    public Tensor Forward(Tensor x)
    {
        using var _ = Graph.NameScope(Name);
        return F.ConvTranspose2d(x, Weight, Bias, stride, padding, outputPadding, groups);
    }
}

/// <summary>Pooling, dropout and flatten as layers, for model code that reads like PyTorch's.</summary>
public sealed class MaxPool2d(int kernel, int? stride = null, int padding = 0)
{
    public Tensor Forward(Tensor x) => F.MaxPool2d(x, kernel, stride, padding);
}

public sealed class MinPool2d(int kernel, int? stride = null, int padding = 0)
{
    public Tensor Forward(Tensor x) => F.MinPool2d(x, kernel, stride, padding);
}

public sealed class AvgPool2d(int kernel, int? stride = null, int padding = 0)
{
    public Tensor Forward(Tensor x) => F.AvgPool2d(x, kernel, stride, padding);
}

public sealed class Dropout(double rate = 0.5)
{
    public Tensor Forward(Tensor x) => F.Dropout(x, rate);
}

public sealed class Flatten(int startDim = 1)
{
    public Tensor Forward(Tensor x) => F.Flatten(x, startDim);
}

/// <summary>1-D convolution layer over [N, C, L] with weight [out, in/groups, k] (PyTorch's layout and init).</summary>
public sealed class Conv1d : Module
{
    private readonly int stride, padding, dilation, groups;
    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    public Conv1d(Graph g, string name, int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0,
        int dilation = 1, int groups = 1, bool bias = true, Initializer? weightInit = null, Initializer? biasInit = null) : base(g, name)
    {
        (this.stride, this.padding, this.dilation, this.groups) = (stride, padding, dilation, groups);
        int fanIn = inChannels / groups * kernelSize;
        Weight = Parameter("weight", [outChannels, inChannels / groups, kernelSize], weightInit ?? FanInUniform(fanIn));
        if (bias) Bias = Parameter("bias", [outChannels], biasInit ?? FanInUniform(fanIn));
    }

    public Tensor Forward(Tensor x)
    {
        using var _ = Graph.NameScope(Name);
        return F.Conv1d(x, Weight, Bias, stride, padding, dilation, groups);
    }
}

/// <summary>PReLU, as torch.nn.PReLU: one slope or one per channel, starting at 0.25.</summary>
public sealed class PReLU : Module
{
    public PReLU(Graph g, string name, int numParameters = 1, double init = 0.25) : base(g, name) =>
        Weight = Parameter("weight", [numParameters], Initializer.Constant(init));

    public Tensor Weight { get; }

    public Tensor Forward(Tensor x)
    {
        using var _ = Graph.NameScope(Name);
        return F.Prelu(x, Weight);
    }
}

public sealed class MaxPool1d(int kernel, int? stride = null, int padding = 0)
{
    public Tensor Forward(Tensor x) => F.MaxPool1d(x, kernel, stride, padding);
}

public sealed class AvgPool1d(int kernel, int? stride = null, int padding = 0)
{
    public Tensor Forward(Tensor x) => F.AvgPool1d(x, kernel, stride, padding);
}

public sealed class Dropout2d(double rate = 0.5)
{
    public Tensor Forward(Tensor x) => F.Dropout2d(x, rate);
}

public sealed class Unflatten(int dim, params int[] sizes)
{
    public Tensor Forward(Tensor x) => F.Unflatten(x, dim, sizes);
}
