namespace GraphNet.Nn;

// Each layer has two constructors: the PyTorch one (sizes only; variables made when it first runs,
// named by the field that holds it) and the TF1 one (a graph and a name first; made at once).

/// <summary>y = x Wᵀ + b, with weight [out, in] and bias [out].</summary>
public sealed class Linear : Module
{
    private readonly Parameter weight;
    private readonly Parameter? bias;

    /// <summary>
    /// PyTorch's initialization unless <paramref name="weightInit"/>/<paramref name="biasInit"/> are
    /// given (see <see cref="Init"/>).
    /// </summary>
    public Linear(int inFeatures, int outFeatures, bool bias = true, Initializer? weightInit = null,
        Initializer? biasInit = null, DType dtype = DType.Float32)
    {
        weight = RegisterParameter("weight", [outFeatures, inFeatures], weightInit ?? FanInUniform(inFeatures), dtype);
        if (bias) this.bias = RegisterParameter("bias", [outFeatures], biasInit ?? FanInUniform(inFeatures), dtype);
    }

    public Linear(Graph g, string name, int inFeatures, int outFeatures, bool bias = true, Initializer? weightInit = null,
        Initializer? biasInit = null, DType dtype = DType.Float32) : this(inFeatures, outFeatures, bias, weightInit, biasInit, dtype) =>
        BindAs(g, name);

    public Tensor Weight => weight;
    public Tensor? Bias => bias?.Tensor;

    public override Tensor Forward(Tensor x)
    {
        using var _ = Enter(x);
        var y = F.MatMul(x, Weight, transB: true);
        return Bias is null ? y : y + Bias;
    }
}

/// <summary>2-D convolution layer with weight [out, in/groups, k, k].</summary>
public sealed class Conv2d : Module
{
    private readonly int stride, padding, dilation, groups;
    private readonly Parameter weight;
    private readonly Parameter? bias;

    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1,
        int groups = 1, bool bias = true, Initializer? weightInit = null, Initializer? biasInit = null, DType dtype = DType.Float32)
    {
        (this.stride, this.padding, this.dilation, this.groups) = (stride, padding, dilation, groups);
        int fanIn = inChannels / groups * kernelSize * kernelSize;
        weight = RegisterParameter("weight", [outChannels, inChannels / groups, kernelSize, kernelSize],
            weightInit ?? FanInUniform(fanIn), dtype);
        if (bias) this.bias = RegisterParameter("bias", [outChannels], biasInit ?? FanInUniform(fanIn), dtype);
    }

    public Conv2d(Graph g, string name, int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0,
        int dilation = 1, int groups = 1, bool bias = true, Initializer? weightInit = null, Initializer? biasInit = null,
        DType dtype = DType.Float32)
        : this(inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias, weightInit, biasInit, dtype) =>
        BindAs(g, name);

    public Tensor Weight => weight;
    public Tensor? Bias => bias?.Tensor;

    public override Tensor Forward(Tensor x)
    {
        using var _ = Enter(x);
        return F.Conv2d(x, Weight, Bias, stride, padding, dilation, groups);
    }
}

/// <summary>Transposed convolution layer with weight [in, out/groups, k, k] (PyTorch's layout and init).</summary>
public sealed class ConvTranspose2d : Module
{
    private readonly int stride, padding, outputPadding, groups;
    private readonly Parameter weight;
    private readonly Parameter? bias;

    public ConvTranspose2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0,
        int outputPadding = 0, int groups = 1, bool bias = true, Initializer? weightInit = null, Initializer? biasInit = null,
        DType dtype = DType.Float32)
    {
        (this.stride, this.padding, this.outputPadding, this.groups) = (stride, padding, outputPadding, groups);
        // PyTorch computes fan_in from weight.size(1) * k * k for transposed convolutions.
        int fanIn = outChannels / groups * kernelSize * kernelSize;
        weight = RegisterParameter("weight", [inChannels, outChannels / groups, kernelSize, kernelSize],
            weightInit ?? FanInUniform(fanIn), dtype);
        if (bias) this.bias = RegisterParameter("bias", [outChannels], biasInit ?? FanInUniform(fanIn), dtype);
    }

    public ConvTranspose2d(Graph g, string name, int inChannels, int outChannels, int kernelSize, int stride = 1,
        int padding = 0, int outputPadding = 0, int groups = 1, bool bias = true, Initializer? weightInit = null,
        Initializer? biasInit = null, DType dtype = DType.Float32)
        : this(inChannels, outChannels, kernelSize, stride, padding, outputPadding, groups, bias, weightInit, biasInit, dtype) =>
        BindAs(g, name);

    public Tensor Weight => weight;
    public Tensor? Bias => bias?.Tensor;

    public override Tensor Forward(Tensor x)
    {
        using var _ = Enter(x);
        return F.ConvTranspose2d(x, Weight, Bias, stride, padding, outputPadding, groups);
    }
}

/// <summary>1-D convolution layer over [N, C, L] with weight [out, in/groups, k] (PyTorch's layout and init).</summary>
public sealed class Conv1d : Module
{
    private readonly int stride, padding, dilation, groups;
    private readonly Parameter weight;
    private readonly Parameter? bias;

    public Conv1d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1,
        int groups = 1, bool bias = true, Initializer? weightInit = null, Initializer? biasInit = null, DType dtype = DType.Float32)
    {
        (this.stride, this.padding, this.dilation, this.groups) = (stride, padding, dilation, groups);
        int fanIn = inChannels / groups * kernelSize;
        weight = RegisterParameter("weight", [outChannels, inChannels / groups, kernelSize], weightInit ?? FanInUniform(fanIn), dtype);
        if (bias) this.bias = RegisterParameter("bias", [outChannels], biasInit ?? FanInUniform(fanIn), dtype);
    }

    public Conv1d(Graph g, string name, int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0,
        int dilation = 1, int groups = 1, bool bias = true, Initializer? weightInit = null, Initializer? biasInit = null,
        DType dtype = DType.Float32)
        : this(inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias, weightInit, biasInit, dtype) =>
        BindAs(g, name);

    public Tensor Weight => weight;
    public Tensor? Bias => bias?.Tensor;

    public override Tensor Forward(Tensor x)
    {
        using var _ = Enter(x);
        return F.Conv1d(x, Weight, Bias, stride, padding, dilation, groups);
    }
}

/// <summary>PReLU, as torch.nn.PReLU: one slope or one per channel, starting at 0.25.</summary>
public sealed class PReLU : Module
{
    private readonly Parameter weight;

    public PReLU(int numParameters = 1, double init = 0.25, DType dtype = DType.Float32) =>
        weight = RegisterParameter("weight", [numParameters], Initializer.Constant(init), dtype);

    public PReLU(Graph g, string name, int numParameters = 1, double init = 0.25, DType dtype = DType.Float32)
        : this(numParameters, init, dtype) => BindAs(g, name);

    public Tensor Weight => weight;

    public override Tensor Forward(Tensor x)
    {
        using var _ = Enter(x);
        return F.Prelu(x, Weight);
    }
}

/// <summary>Pooling, dropout and reshaping as layers, for model code that reads like PyTorch's.</summary>
public sealed class MaxPool2d(int kernel, int? stride = null, int padding = 0) : Module
{
    public override Tensor Forward(Tensor x) => F.MaxPool2d(x, kernel, stride, padding);
}

public sealed class MinPool2d(int kernel, int? stride = null, int padding = 0) : Module
{
    public override Tensor Forward(Tensor x) => F.MinPool2d(x, kernel, stride, padding);
}

public sealed class AvgPool2d(int kernel, int? stride = null, int padding = 0) : Module
{
    public override Tensor Forward(Tensor x) => F.AvgPool2d(x, kernel, stride, padding);
}

public sealed class MaxPool1d(int kernel, int? stride = null, int padding = 0) : Module
{
    public override Tensor Forward(Tensor x) => F.MaxPool1d(x, kernel, stride, padding);
}

public sealed class AvgPool1d(int kernel, int? stride = null, int padding = 0) : Module
{
    public override Tensor Forward(Tensor x) => F.AvgPool1d(x, kernel, stride, padding);
}

/// <summary>Dropout in training mode (this module's and the graph's switch), the identity in evaluation.</summary>
public sealed class Dropout(double rate = 0.5) : Module
{
    public override Tensor Forward(Tensor x)
    {
        using var _ = Enter(x);
        return F.Dropout(x, rate, TrainingSwitch(x.Graph));
    }
}

public sealed class Dropout2d(double rate = 0.5) : Module
{
    public override Tensor Forward(Tensor x)
    {
        using var _ = Enter(x);
        return F.Dropout2d(x, rate, TrainingSwitch(x.Graph));
    }
}

public sealed class Flatten(int startDim = 1) : Module
{
    public override Tensor Forward(Tensor x) => F.Flatten(x, startDim);
}

public sealed class Unflatten(int dim, params int[] sizes) : Module
{
    public override Tensor Forward(Tensor x) => F.Unflatten(x, dim, sizes);
}

/// <summary>torch.nn.Upsample: <see cref="F.Interpolate"/> to a size or by a factor, "nearest" (the default) or "bilinear".</summary>
public sealed class Upsample((int H, int W)? size = null, double? scaleFactor = null, string mode = "nearest", bool alignCorners = false)
    : Module
{
    public override Tensor Forward(Tensor x) => F.Interpolate(x, size, scaleFactor, mode, alignCorners);
}
