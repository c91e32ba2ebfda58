namespace GraphNet.Nn;

/// <summary>
/// A recurrent cell usable one step at a time, as PyTorch's <c>nn.RNNCell</c>, <c>nn.LSTMCell</c>
/// and <c>nn.GRUCell</c>: parameters weight_ih [gates·H, input], weight_hh [gates·H, H], bias_ih,
/// bias_hh, all U(−1/√H, 1/√H); a state left null is zeros.
/// </summary>
public abstract class RecurrentCell : Module
{
    private readonly Parameter wih, whh;
    private readonly Parameter? bih, bhh;

    protected RecurrentCell(int inputSize, int hiddenSize, int gates, bool bias, DType dtype)
    {
        if (inputSize < 1 || hiddenSize < 1)
            throw new GraphException($"{GetType().Name}: input_size {inputSize} and hidden_size {hiddenSize} must be at least 1");
        (InputSize, HiddenSize) = (inputSize, hiddenSize);
        var init = FanInUniform(hiddenSize);
        wih = RegisterParameter("weight_ih", [gates * hiddenSize, inputSize], init, dtype);
        whh = RegisterParameter("weight_hh", [gates * hiddenSize, hiddenSize], init, dtype);
        if (bias)
        {
            bih = RegisterParameter("bias_ih", [gates * hiddenSize], init, dtype);
            bhh = RegisterParameter("bias_hh", [gates * hiddenSize], init, dtype);
        }
    }

    public int InputSize { get; }
    public int HiddenSize { get; }
    public Tensor WeightIh => wih;
    public Tensor WeightHh => whh;
    public Tensor? BiasIh => bih is null ? null : (Tensor)bih;
    public Tensor? BiasHh => bhh is null ? null : (Tensor)bhh;

    /// <summary>x W_ihᵀ + b_ih for x [N, input], checked.</summary>
    protected Tensor Project(Tensor x)
    {
        if (x.Rank != 2 || x.Shape[1] != InputSize)
            throw new GraphException($"{this} expects an input [N, {InputSize}], got {x.Shape}");
        var p = F.MatMul(x, WeightIh, transB: true);
        return BiasIh is null ? p : p + BiasIh;
    }

    protected void CheckState(Tensor? s, string name)
    {
        if (s is not null && (s.Rank != 2 || s.Shape[1] != HiddenSize))
            throw new GraphException($"{this}: {name} must be [N, {HiddenSize}], got {s.Shape}");
    }
}

/// <summary>One Elman step, as PyTorch's <c>nn.RNNCell</c>: h' = tanh (or relu)(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh).</summary>
public sealed class RNNCell : RecurrentCell
{
    private readonly bool relu;

    /// <summary>PyTorch's arguments; <c>nonlinearity</c> is "tanh" (the default) or "relu".</summary>
    public RNNCell(int inputSize, int hiddenSize, bool bias = true, string nonlinearity = "tanh", DType dtype = DType.Float32)
        : base(inputSize, hiddenSize, 1, bias, dtype) =>
        relu = nonlinearity switch
        {
            "tanh" => false,
            "relu" => true,
            _ => throw new GraphException($"RNNCell: unknown nonlinearity '{nonlinearity}'; use \"tanh\" or \"relu\""),
        };

    public RNNCell(Graph g, string name, int inputSize, int hiddenSize, bool bias = true, string nonlinearity = "tanh",
        DType dtype = DType.Float32) : this(inputSize, hiddenSize, bias, nonlinearity, dtype) => BindAs(g, name);

    /// <summary>The next h [N, H] from x [N, input] and h [N, H].</summary>
    public Tensor Forward(Tensor x, Tensor? h)
    {
        using var _ = Enter(x);
        CheckState(h, "h");
        return Cells.Rnn(Project(x), h, WeightHh, BiasHh, relu);
    }

    public override Tensor Forward(Tensor x) => Forward(x, null);
}

/// <summary>One LSTM step, as PyTorch's <c>nn.LSTMCell</c>: gates i, f, g, o.</summary>
public sealed class LSTMCell : RecurrentCell
{
    public LSTMCell(int inputSize, int hiddenSize, bool bias = true, DType dtype = DType.Float32) : base(inputSize, hiddenSize, 4, bias, dtype) { }

    public LSTMCell(Graph g, string name, int inputSize, int hiddenSize, bool bias = true, DType dtype = DType.Float32)
        : this(inputSize, hiddenSize, bias, dtype) => BindAs(g, name);

    /// <summary>The next (h, c) [N, H] each from x [N, input] and the state.</summary>
    public (Tensor H, Tensor C) Forward(Tensor x, (Tensor H, Tensor C)? state = null)
    {
        using var _ = Enter(x);
        CheckState(state?.H, "h"); CheckState(state?.C, "c");
        return Cells.Lstm(Project(x), state?.H, state?.C, WeightHh, BiasHh, HiddenSize);
    }
}

/// <summary>One GRU step, as PyTorch's <c>nn.GRUCell</c>: gates r, z, n.</summary>
public sealed class GRUCell : RecurrentCell
{
    public GRUCell(int inputSize, int hiddenSize, bool bias = true, DType dtype = DType.Float32) : base(inputSize, hiddenSize, 3, bias, dtype) { }

    public GRUCell(Graph g, string name, int inputSize, int hiddenSize, bool bias = true, DType dtype = DType.Float32)
        : this(inputSize, hiddenSize, bias, dtype) => BindAs(g, name);

    /// <summary>The next h [N, H] from x [N, input] and h [N, H].</summary>
    public Tensor Forward(Tensor x, Tensor? h)
    {
        using var _ = Enter(x);
        CheckState(h, "h");
        return Cells.Gru(Project(x), h, WeightHh, BiasHh, HiddenSize);
    }

    public override Tensor Forward(Tensor x) => Forward(x, null);
}
