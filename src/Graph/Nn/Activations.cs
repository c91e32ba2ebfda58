namespace GraphNet.Nn;

// torch.nn's activation modules, for Sequential: each is its F function.

public sealed class ReLU : Module { public override Tensor Forward(Tensor x) => F.Relu(x); }
public sealed class ReLU6 : Module { public override Tensor Forward(Tensor x) => F.Relu6(x); }
public sealed class Tanh : Module { public override Tensor Forward(Tensor x) => F.Tanh(x); }
public sealed class Sigmoid : Module { public override Tensor Forward(Tensor x) => F.Sigmoid(x); }
public sealed class SiLU : Module { public override Tensor Forward(Tensor x) => F.Silu(x); }
public sealed class SELU : Module { public override Tensor Forward(Tensor x) => F.Selu(x); }
public sealed class Mish : Module { public override Tensor Forward(Tensor x) => F.Mish(x); }
public sealed class Softplus : Module { public override Tensor Forward(Tensor x) => F.Softplus(x); }
public sealed class Softsign : Module { public override Tensor Forward(Tensor x) => F.Softsign(x); }
public sealed class Hardswish : Module { public override Tensor Forward(Tensor x) => F.Hardswish(x); }
public sealed class Hardsigmoid : Module { public override Tensor Forward(Tensor x) => F.Hardsigmoid(x); }

public sealed class LeakyReLU(double negativeSlope = 0.01) : Module
{
    public override Tensor Forward(Tensor x) => F.LeakyRelu(x, negativeSlope);
}

public sealed class ELU(double alpha = 1.0) : Module
{
    public override Tensor Forward(Tensor x) => F.Elu(x, alpha);
}

/// <summary>GELU, exact (<c>approximate: "none"</c>) or the tanh approximation (<c>"tanh"</c>).</summary>
public sealed class GELU(string approximate = "none") : Module
{
    public override Tensor Forward(Tensor x) => F.Gelu(x, approximate);
}

public sealed class Hardtanh(double minVal = -1, double maxVal = 1) : Module
{
    public override Tensor Forward(Tensor x) => F.Hardtanh(x, minVal, maxVal);
}

public sealed class Softmax(int dim = -1) : Module
{
    public override Tensor Forward(Tensor x) => F.Softmax(x, dim);
}

public sealed class LogSoftmax(int dim = -1) : Module
{
    public override Tensor Forward(Tensor x) => F.LogSoftmax(x, dim);
}
