namespace GraphNet.Nn;

/// <summary>
/// A one-layer recurrent network over a batch-first sequence [N, T, input]: an F.Scan over T
/// (time-major inside) whose step is the cell (its gradient a scan back), or unrolled over T
/// (TF1's static_rnn).
/// Parameter names, layouts and gate orders are PyTorch's: weight_ih_l0 [gates*H, input],
/// weight_hh_l0 [gates*H, H], bias_ih_l0, bias_hh_l0.
/// </summary>
public abstract class RecurrentBase : Module
{
    private readonly Parameter wih, whh, bih, bhh;
    private (Tensor Wih, Tensor Whh, Tensor Bih, Tensor Bhh)? overridden;

    protected RecurrentBase(int inputSize, int hiddenSize, int gates, DType dtype)
    {
        HiddenSize = hiddenSize;
        var init = FanInUniform(hiddenSize); // PyTorch: U(-1/sqrt(H), 1/sqrt(H)) for all four
        wih = RegisterParameter("weight_ih_l0", [gates * hiddenSize, inputSize], init, dtype);
        whh = RegisterParameter("weight_hh_l0", [gates * hiddenSize, hiddenSize], init, dtype);
        bih = RegisterParameter("bias_ih_l0", [gates * hiddenSize], init, dtype);
        bhh = RegisterParameter("bias_hh_l0", [gates * hiddenSize], init, dtype);
    }

    public int HiddenSize { get; }
    public Tensor WeightIh => overridden?.Wih ?? wih;
    public Tensor WeightHh => overridden?.Whh ?? whh;
    public Tensor BiasIh => overridden?.Bih ?? bih;
    public Tensor BiasHh => overridden?.Bhh ?? bhh;

    /// <summary>Computes with other tensors in place of the parameters (gradient checks feed them).</summary>
    internal void OverrideParameters(Tensor wih, Tensor whh, Tensor bih, Tensor bhh) => overridden = (wih, whh, bih, bhh);

    /// <summary>
    /// Unroll the sequence into one copy of the cell per step (TF1's static_rnn) instead of
    /// running it as an <see cref="F.Scan"/> (the default), whose step is compiled once for any length.
    /// </summary>
    public bool Unroll { get; init; }

    /// <summary>Runs the sequence; returns all hidden states [N, T, H] and the last one [N, H].</summary>
    public (Tensor Output, Tensor Last) Forward(Tensor x, Tensor? h0 = null)
    {
        if (x.Rank != 3) throw new GraphException($"{this} expects a batch-first sequence [N, T, features], got {x.Shape}");
        using var _ = Enter(x);
        if (!Unroll)
        {
            // Time-major, as F.Scan runs inside: x is transposed before the projection (one matmul
            // for every step's input), which is narrower than what F.Scan would transpose after it.
            var xTime = F.MatMul(F.Transpose(x, 1, 0, 2), WeightIh, transB: true) + BiasIh;
            var zeros = F.ZerosLike(F.Slice(F.Reshape(F.Slice(xTime, 0, 0, 1), [-1, xTime.Shape[2]]), 1, 0, HiddenSize));
            Tensor[] init = HasCell ? [h0 ?? zeros, zeros] : [h0 ?? zeros];
            var (last, ys) = F.Scan((state, xt) =>
            {
                var (h, c) = Cell(xt[0], state[0], HasCell ? state[1] : null);
                return (HasCell ? [h, c!] : [h], [h]);
            }, init, [xTime], axis: 0, name: "steps");
            return (F.Transpose(ys[0], 1, 0, 2), last[0]);
        }
        var xProj = F.MatMul(x, WeightIh, transB: true) + BiasIh;
        int steps = x.Shape[1];
        var outputs = new List<Tensor>();
        Tensor? hs = h0;
        Tensor? cs = null;
        for (int t = 0; t < steps; t++)
        {
            var xt = F.Reshape(F.Slice(xProj, 1, t, 1), [-1, xProj.Shape[2]]);
            (hs, cs) = Cell(xt, hs, cs);
            outputs.Add(F.Reshape(hs, [-1, 1, HiddenSize]));
        }
        return (F.Concat(outputs, 1), hs!);
    }

    /// <summary>Whether the cell carries a second state (the LSTM's c).</summary>
    protected virtual bool HasCell => false;

    /// <summary>The recurrent projection h Wₕₕᵀ + bₕₕ; with no state yet, just the bias.</summary>
    protected Tensor Recur(Tensor? h) => h is null ? BiasHh : F.MatMul(h, WeightHh, transB: true) + BiasHh;

    protected Tensor Gate(Tensor t, int i) => F.Slice(t, 1, i * HiddenSize, HiddenSize);

    protected abstract (Tensor H, Tensor? C) Cell(Tensor xProj, Tensor? h, Tensor? c);
}

/// <summary>Elman RNN with tanh: h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh).</summary>
public sealed class RNN : RecurrentBase
{
    public RNN(int inputSize, int hiddenSize, DType dtype = DType.Float32) : base(inputSize, hiddenSize, 1, dtype) { }

    public RNN(Graph g, string name, int inputSize, int hiddenSize, DType dtype = DType.Float32)
        : this(inputSize, hiddenSize, dtype) => BindAs(g, name);

    protected override (Tensor, Tensor?) Cell(Tensor xp, Tensor? h, Tensor? c) => (F.Tanh(xp + Recur(h)), null);
}

/// <summary>LSTM with PyTorch's gate order i, f, g, o.</summary>
public sealed class LSTM : RecurrentBase
{
    public LSTM(int inputSize, int hiddenSize, DType dtype = DType.Float32) : base(inputSize, hiddenSize, 4, dtype) { }

    public LSTM(Graph g, string name, int inputSize, int hiddenSize, DType dtype = DType.Float32)
        : this(inputSize, hiddenSize, dtype) => BindAs(g, name);

    protected override bool HasCell => true;

    protected override (Tensor, Tensor?) Cell(Tensor xp, Tensor? h, Tensor? c)
    {
        var z = xp + Recur(h);
        var i = F.Sigmoid(Gate(z, 0));
        var f = F.Sigmoid(Gate(z, 1));
        var gg = F.Tanh(Gate(z, 2));
        var o = F.Sigmoid(Gate(z, 3));
        var cNext = c is null ? i * gg : f * c + i * gg;
        return (o * F.Tanh(cNext), cNext);
    }
}

/// <summary>GRU with PyTorch's gate order r, z, n: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).</summary>
public sealed class GRU : RecurrentBase
{
    public GRU(int inputSize, int hiddenSize, DType dtype = DType.Float32) : base(inputSize, hiddenSize, 3, dtype) { }

    public GRU(Graph g, string name, int inputSize, int hiddenSize, DType dtype = DType.Float32)
        : this(inputSize, hiddenSize, dtype) => BindAs(g, name);

    protected override (Tensor, Tensor?) Cell(Tensor xp, Tensor? h, Tensor? c)
    {
        var hp = Recur(h);
        if (hp.Rank == 1) hp = F.BroadcastLike(F.Reshape(hp, [1, -1]), xp);
        var r = F.Sigmoid(Gate(xp, 0) + Gate(hp, 0));
        var z = F.Sigmoid(Gate(xp, 1) + Gate(hp, 1));
        var n = F.Tanh(Gate(xp, 2) + r * Gate(hp, 2));
        var hNext = h is null ? (1.0 - z) * n : (1.0 - z) * n + z * h;
        return (hNext, null);
    }
}

/// <summary>
/// One LSTM step, as PyTorch's <c>nn.LSTMCell</c>: (h, c) from x [N, input] and the state
/// [N, H] each (zeros when null). Parameters weight_ih [4H, input], weight_hh [4H, H], bias_ih,
/// bias_hh; gate order i, f, g, o.
/// </summary>
public sealed class LSTMCell : Module
{
    private readonly Parameter wih, whh, bih, bhh;

    public LSTMCell(int inputSize, int hiddenSize, DType dtype = DType.Float32)
    {
        HiddenSize = hiddenSize;
        var init = FanInUniform(hiddenSize);
        wih = RegisterParameter("weight_ih", [4 * hiddenSize, inputSize], init, dtype);
        whh = RegisterParameter("weight_hh", [4 * hiddenSize, hiddenSize], init, dtype);
        bih = RegisterParameter("bias_ih", [4 * hiddenSize], init, dtype);
        bhh = RegisterParameter("bias_hh", [4 * hiddenSize], init, dtype);
    }

    public LSTMCell(Graph g, string name, int inputSize, int hiddenSize, DType dtype = DType.Float32)
        : this(inputSize, hiddenSize, dtype) => BindAs(g, name);

    public int HiddenSize { get; }
    public Tensor WeightIh => wih;
    public Tensor WeightHh => whh;
    public Tensor BiasIh => bih;
    public Tensor BiasHh => bhh;

    public (Tensor H, Tensor C) Forward(Tensor x, (Tensor H, Tensor C)? state = null)
    {
        using var _ = Enter(x);
        var z = F.MatMul(x, WeightIh, transB: true) + BiasIh + BiasHh;
        if (state is { } s) z += F.MatMul(s.H, WeightHh, transB: true);
        Tensor Gate(int k) => F.Slice(z, 1, k * HiddenSize, HiddenSize);
        var i = F.Sigmoid(Gate(0));
        var f = F.Sigmoid(Gate(1));
        var gg = F.Tanh(Gate(2));
        var o = F.Sigmoid(Gate(3));
        var c = state is { } s2 ? f * s2.C + i * gg : i * gg;
        return (o * F.Tanh(c), c);
    }
}
