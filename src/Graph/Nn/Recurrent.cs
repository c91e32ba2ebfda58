namespace GraphNet.Nn;

/// <summary>
/// PyTorch's recurrent layers (<c>nn.RNN</c>, <c>nn.LSTM</c>, <c>nn.GRU</c>): <see cref="NumLayers"/>
/// stacked layers, each one or two directions, over a sequence [T, N, input] ([N, T, input] with
/// <see cref="BatchFirst"/>), with dropout on the outputs of every layer but the last in training.
/// Each direction of each layer is an F.Scan over T (time-major inside; the reverse direction scans
/// backwards) whose step is the cell, compiled once for any length, or unrolled (TF1's static_rnn).
/// Parameter names, layouts, gate orders and initialization are PyTorch's: weight_ih_l{k}
/// [gates·H, input of layer k], weight_hh_l{k} [gates·H, H], bias_ih_l{k}, bias_hh_l{k}, with the
/// suffix <c>_reverse</c> for the second direction, all U(−1/√H, 1/√H).
/// </summary>
public abstract class RecurrentBase : Module
{
    private readonly (Parameter Ih, Parameter Hh, Parameter? BiasIh, Parameter? BiasHh)[] parameters;
    private readonly Weights?[] overridden;

    private sealed record Weights(Tensor Ih, Tensor Hh, Tensor? BiasIh, Tensor? BiasHh);

    protected RecurrentBase(int inputSize, int hiddenSize, int gates, int numLayers, bool bias, bool batchFirst, double dropout,
        bool bidirectional, DType dtype)
    {
        if (inputSize < 1 || hiddenSize < 1)
            throw new GraphException($"{GetType().Name}: input_size {inputSize} and hidden_size {hiddenSize} must be at least 1");
        if (numLayers < 1) throw new GraphException($"{GetType().Name}: num_layers {numLayers} must be at least 1");
        if (dropout is < 0 or > 1) throw new GraphException($"{GetType().Name}: dropout {dropout} must be in [0, 1]");
        (InputSize, HiddenSize, NumLayers, BatchFirst, Dropout, Bidirectional) =
            (inputSize, hiddenSize, numLayers, batchFirst, dropout, bidirectional);
        var init = FanInUniform(hiddenSize);
        parameters = new (Parameter, Parameter, Parameter?, Parameter?)[numLayers * Directions];
        overridden = new Weights?[parameters.Length];
        for (int layer = 0; layer < numLayers; layer++)
            for (int d = 0; d < Directions; d++)
            {
                string suffix = $"_l{layer}" + (d == 1 ? "_reverse" : "");
                int input = layer == 0 ? inputSize : hiddenSize * Directions;
                var ih = RegisterParameter("weight_ih" + suffix, [gates * hiddenSize, input], init, dtype);
                var hh = RegisterParameter("weight_hh" + suffix, [gates * hiddenSize, hiddenSize], init, dtype);
                Parameter? bih = null, bhh = null;
                if (bias)
                {
                    bih = RegisterParameter("bias_ih" + suffix, [gates * hiddenSize], init, dtype);
                    bhh = RegisterParameter("bias_hh" + suffix, [gates * hiddenSize], init, dtype);
                }
                parameters[layer * Directions + d] = (ih, hh, bih, bhh);
            }
    }

    public int InputSize { get; }
    public int HiddenSize { get; }
    public int NumLayers { get; }
    public bool BatchFirst { get; }
    public double Dropout { get; }
    public bool Bidirectional { get; }
    private int Directions => Bidirectional ? 2 : 1;

    /// <summary>Layer 0's forward-direction parameters (weight_ih_l0 and the rest).</summary>
    public Tensor WeightIh => W(0).Ih;
    public Tensor WeightHh => W(0).Hh;
    public Tensor BiasIh => W(0).BiasIh ?? throw new GraphException($"{this} has no biases (bias: false)");
    public Tensor BiasHh => W(0).BiasHh ?? throw new GraphException($"{this} has no biases (bias: false)");

    /// <summary>Layer·direction <paramref name="index"/>'s weights (the parameters are made on the graph when first read).</summary>
    private Weights W(int index)
    {
        if (overridden[index] is { } w) return w;
        var (ih, hh, bih, bhh) = parameters[index];
        return new Weights(ih, hh, bih is null ? null : (Tensor)bih, bhh is null ? null : (Tensor)bhh);
    }

    /// <summary>Computes with other tensors in place of one direction's parameters (gradient checks feed them).</summary>
    internal void OverrideParameters(Tensor wih, Tensor whh, Tensor? bih, Tensor? bhh, int layer = 0, int direction = 0) =>
        overridden[layer * Directions + direction] = new Weights(wih, whh, bih, bhh);

    /// <summary>
    /// Unroll the sequence into one copy of the cell per step (TF1's static_rnn) instead of
    /// running it as an <see cref="F.Scan"/> (the default), whose step is compiled once for any length.
    /// </summary>
    public bool Unroll { get; init; }

    /// <summary>Whether the cell carries a second state (the LSTM's c).</summary>
    protected virtual bool HasCell => false;

    /// <summary>
    /// One step: the next h (and c) from the input's projection x W_ihᵀ + b_ih and the state
    /// (null before the first step: zeros), with the recurrent weights and bias.
    /// </summary>
    protected abstract (Tensor H, Tensor? C) Cell(Tensor xProj, Tensor? h, Tensor? c, Tensor whh, Tensor? bhh);

    /// <summary>
    /// The layers over <paramref name="x"/> from the initial states [layers·directions, N, H]
    /// (zeros when null): the last layer's outputs of every step, [T, N, directions·H] ([N, T, ..]
    /// with <see cref="BatchFirst"/>), and each layer's and direction's last h (and c), stacked as
    /// PyTorch's h_n and c_n [layers·directions, N, H]. With <paramref name="lengths"/> [N] (int64),
    /// sequence n has only its first lengths[n] steps, as in a PyTorch packed sequence: its state
    /// stops changing after them (so h_n is its last real step's, and the reverse direction starts
    /// at that step) and its outputs after them are zeros, as pad_packed_sequence pads.
    /// </summary>
    protected (Tensor Output, Tensor HN, Tensor? CN) Run(Tensor x, Tensor? h0, Tensor? c0, Tensor? lengths)
    {
        if (x.Rank != 3)
            throw new GraphException($"{this} expects a sequence [{(BatchFirst ? "N, T" : "T, N")}, features], got {x.Shape}" +
                " (an unbatched sequence: add the batch dimension)");
        int features = x.Shape[2];
        if (features != InputSize) throw new GraphException($"{this} expects {InputSize} input features, got {x.Shape}");
        using var _ = Enter(x);
        CheckState(h0, "h0"); CheckState(c0, "c0");
        // Scanned, time-major inside (the scan's steps are then whole blocks); unrolled, in the input's
        // layout (a batch-first step is then a slice the loops read in place).
        var seq = BatchFirst && !Unroll ? F.Transpose(x, 1, 0, 2) : x;
        int timeAxis = BatchFirst && Unroll ? 1 : 0;
        var mask = lengths is null ? null : StepMask(lengths, x.Shape[BatchFirst ? 1 : 0], x.DType);
        var hs = new List<Tensor>();
        var cs = new List<Tensor>();
        for (int layer = 0; layer < NumLayers; layer++)
        {
            if (layer > 0 && Dropout > 0) seq = F.Dropout(seq, Dropout, TrainingSwitch(x.Graph));
            var outputs = new Tensor[Directions];
            for (int d = 0; d < Directions; d++)
            {
                int index = layer * Directions + d;
                var (ys, h, c) = Direction(seq, timeAxis, W(index), State(h0, index), State(c0, index), mask, reverse: d == 1);
                outputs[d] = ys;
                hs.Add(F.Reshape(h, 1, -1, HiddenSize));
                if (c is not null) cs.Add(F.Reshape(c, 1, -1, HiddenSize));
            }
            seq = Directions == 1 ? outputs[0] : F.Concat(outputs, 2);
        }
        var output = BatchFirst && !Unroll ? F.Transpose(seq, 1, 0, 2) : seq;
        return (output, Stack(hs), HasCell ? Stack(cs) : null);
    }

    /// <summary>[T, N, 1]: 1 where step t is within sequence n's length, else 0.</summary>
    private Tensor StepMask(Tensor lengths, int steps, DType dtype)
    {
        if (lengths.Rank != 1 || lengths.DType is not (DType.Int64 or DType.Int32))
            throw new GraphException($"{this}: lengths must be [N] of int64 (each sequence's length), got {lengths.Type}");
        var t = lengths.Graph.Constant(NDArray.From(Enumerable.Range(0, steps).Select(i => (long)i).ToArray(), steps, 1), "step_index");
        var valid = F.Less(F.Cast(t, lengths.DType), F.Reshape(lengths, 1, -1));
        return F.Reshape(F.Cast(valid, dtype), steps, -1, 1);
    }

    /// <summary>A masked step: the new state where the step is real, the old one where it is padding.</summary>
    private static Tensor Keep(Tensor? m, Tensor next, Tensor? old) => m is null ? next : old is null ? next * m : next * m + old * (1.0 - m);

    private static Tensor Stack(List<Tensor> states) => states.Count == 1 ? states[0] : F.Concat(states, 0);

    private void CheckState(Tensor? s, string name)
    {
        if (s is null) return;
        int want = NumLayers * Directions;
        if (s.Rank != 3 || s.Shape[0] != want || s.Shape[2] != HiddenSize)
            throw new GraphException($"{this}: {name} must be [num_layers·directions = {want}, N, hidden_size = {HiddenSize}], got {s.Shape}");
        if (name == "c0" && !HasCell) throw new GraphException($"{this} has no cell state; give h0 alone");
    }

    /// <summary>Layer·direction <paramref name="index"/>'s initial state [N, H], or null.</summary>
    private Tensor? State(Tensor? s, int index) => s is null ? null : F.Reshape(F.Slice(s, 0, index, 1), -1, HiddenSize);

    /// <summary>One direction of one layer over a sequence (time on <paramref name="timeAxis"/>): its outputs [.., H] and last state.</summary>
    private (Tensor Ys, Tensor H, Tensor? C) Direction(Tensor seq, int timeAxis, Weights w, Tensor? h0, Tensor? c0, Tensor? mask, bool reverse)
    {
        // One matmul projects every step's input; the loop does only the recurrent part.
        var proj = F.MatMul(seq, w.Ih, transB: true);
        if (w.BiasIh is not null) proj += w.BiasIh;
        if (Unroll) return Unrolled(proj, timeAxis, w, h0, c0, mask, reverse);
        var zeros = F.ZerosLike(F.Slice(F.Reshape(F.Slice(proj, 0, 0, 1), [-1, proj.Shape[2]]), 1, 0, HiddenSize));
        Tensor[] init = HasCell ? [h0 ?? zeros, c0 ?? zeros] : [h0 ?? zeros];
        var (last, ys) = F.Scan((state, xt) =>
        {
            var m = mask is null ? null : xt[1];
            var (h, c) = Cell(xt[0], state[0], HasCell ? state[1] : null, w.Hh, w.BiasHh);
            h = Keep(m, h, state[0]);
            if (HasCell) c = Keep(m, c!, state[1]);
            return (HasCell ? [h, c!] : [h], [m is null ? h : h * m]);
        }, init, mask is null ? [proj] : [proj, mask], axis: 0, reverse: reverse, name: reverse ? "steps_reverse" : "steps");
        return (ys[0], last[0], HasCell ? last[1] : null);
    }

    private (Tensor Ys, Tensor H, Tensor? C) Unrolled(Tensor proj, int timeAxis, Weights w, Tensor? h, Tensor? c, Tensor? mask, bool reverse)
    {
        int steps = proj.Shape[timeAxis];
        var outputs = new Tensor[steps];
        for (int s = 0; s < steps; s++)
        {
            int t = reverse ? steps - 1 - s : s;
            var xt = F.Reshape(F.Slice(proj, timeAxis, t, 1), [-1, proj.Shape[2]]);
            var m = mask is null ? null : F.Reshape(F.Slice(mask, 0, t, 1), -1, 1);
            var (hNext, cNext) = Cell(xt, h, HasCell ? c : null, w.Hh, w.BiasHh);
            (h, c) = (Keep(m, hNext, h), HasCell ? Keep(m, cNext!, c) : null);
            var y = m is null ? h : h * m;
            outputs[t] = F.Reshape(y, timeAxis == 0 ? [1, -1, HiddenSize] : [-1, 1, HiddenSize]);
        }
        return (F.Concat(outputs, timeAxis), h!, c);
    }
}

/// <summary>The cells' formulas, shared by the layers and the one-step cells (PyTorch's gate orders).</summary>
internal static class Cells
{
    /// <summary>The recurrent projection h W_hhᵀ + b_hh; with no state yet, the bias (or null with none).</summary>
    public static Tensor? Recur(Tensor? h, Tensor whh, Tensor? bhh) =>
        h is null ? bhh : bhh is null ? F.MatMul(h, whh, transB: true) : F.MatMul(h, whh, transB: true) + bhh;

    private static Tensor Gate(Tensor t, int i, int hidden) => F.Slice(t, 1, i * hidden, hidden);

    public static Tensor Rnn(Tensor xp, Tensor? h, Tensor whh, Tensor? bhh, bool relu)
    {
        var z = Recur(h, whh, bhh) is { } r ? xp + r : xp;
        return relu ? F.Relu(z) : F.Tanh(z);
    }

    /// <summary>LSTM, gates i, f, g, o: c' = f·c + i·g, h' = o·tanh(c').</summary>
    public static (Tensor H, Tensor C) Lstm(Tensor xp, Tensor? h, Tensor? c, Tensor whh, Tensor? bhh, int hidden)
    {
        var z = Recur(h, whh, bhh) is { } r ? xp + r : xp;
        var i = F.Sigmoid(Gate(z, 0, hidden));
        var f = F.Sigmoid(Gate(z, 1, hidden));
        var g = F.Tanh(Gate(z, 2, hidden));
        var o = F.Sigmoid(Gate(z, 3, hidden));
        var cNext = c is null ? i * g : f * c + i * g;
        return (o * F.Tanh(cNext), cNext);
    }

    /// <summary>GRU, gates r, z, n: n = tanh(W_in x + b_in + r·(W_hn h + b_hn)), h' = (1 − z)·n + z·h.</summary>
    public static Tensor Gru(Tensor xp, Tensor? h, Tensor whh, Tensor? bhh, int hidden)
    {
        var hp = Recur(h, whh, bhh);
        if (hp is { Rank: 1 }) hp = F.BroadcastLike(F.Reshape(hp, [1, -1]), xp);
        // Gate i of x's projection plus (r times, for n) the recurrent one's, when there is one.
        Tensor Plus(int i, Tensor? times = null) =>
            hp is null ? Gate(xp, i, hidden) : Gate(xp, i, hidden) + (times is null ? Gate(hp, i, hidden) : times * Gate(hp, i, hidden));
        var r = F.Sigmoid(Plus(0));
        var z = F.Sigmoid(Plus(1));
        var n = F.Tanh(Plus(2, r));
        return h is null ? (1.0 - z) * n : (1.0 - z) * n + z * h;
    }
}

/// <summary>Elman RNN, as PyTorch's <c>nn.RNN</c>: h' = tanh (or relu)(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh).</summary>
public sealed class RNN : RecurrentBase
{
    private readonly bool relu;

    /// <summary>PyTorch's arguments; <c>nonlinearity</c> is "tanh" (the default) or "relu".</summary>
    public RNN(int inputSize, int hiddenSize, int numLayers = 1, string nonlinearity = "tanh", bool bias = true, bool batchFirst = false,
        double dropout = 0, bool bidirectional = false, DType dtype = DType.Float32)
        : base(inputSize, hiddenSize, 1, numLayers, bias, batchFirst, dropout, bidirectional, dtype) =>
        relu = nonlinearity switch
        {
            "tanh" => false,
            "relu" => true,
            _ => throw new GraphException($"RNN: unknown nonlinearity '{nonlinearity}'; use \"tanh\" or \"relu\""),
        };

    public RNN(Graph g, string name, int inputSize, int hiddenSize, int numLayers = 1, string nonlinearity = "tanh", bool bias = true,
        bool batchFirst = false, double dropout = 0, bool bidirectional = false, DType dtype = DType.Float32)
        : this(inputSize, hiddenSize, numLayers, nonlinearity, bias, batchFirst, dropout, bidirectional, dtype) => BindAs(g, name);

    /// <summary>As PyTorch's <c>output, h_n = rnn(x, h0)</c>; <paramref name="lengths"/> [N] as a packed sequence's.</summary>
    public (Tensor Output, Tensor HN) Forward(Tensor x, Tensor? h0 = null, Tensor? lengths = null)
    {
        var (output, hn, _) = Run(x, h0, null, lengths);
        return (output, hn);
    }

    protected override (Tensor, Tensor?) Cell(Tensor xp, Tensor? h, Tensor? c, Tensor whh, Tensor? bhh) => (Cells.Rnn(xp, h, whh, bhh, relu), null);
}

/// <summary>LSTM, as PyTorch's <c>nn.LSTM</c>, gate order i, f, g, o.</summary>
public sealed class LSTM : RecurrentBase
{
    public LSTM(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0,
        bool bidirectional = false, DType dtype = DType.Float32)
        : base(inputSize, hiddenSize, 4, numLayers, bias, batchFirst, dropout, bidirectional, dtype) { }

    public LSTM(Graph g, string name, int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false,
        double dropout = 0, bool bidirectional = false, DType dtype = DType.Float32)
        : this(inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, dtype) => BindAs(g, name);

    protected override bool HasCell => true;

    /// <summary>
    /// As PyTorch's <c>output, (h_n, c_n) = lstm(x, (h0, c0))</c>; h0 and c0 [layers·directions, N, H]
    /// default to zeros; <paramref name="lengths"/> [N] as a packed sequence's.
    /// </summary>
    public (Tensor Output, (Tensor H, Tensor C) State) Forward(Tensor x, (Tensor H, Tensor C)? state = null, Tensor? lengths = null)
    {
        var (output, hn, cn) = Run(x, state?.H, state?.C, lengths);
        return (output, (hn, cn!));
    }

    protected override (Tensor, Tensor?) Cell(Tensor xp, Tensor? h, Tensor? c, Tensor whh, Tensor? bhh) =>
        Cells.Lstm(xp, h, c, whh, bhh, HiddenSize);
}

/// <summary>GRU, as PyTorch's <c>nn.GRU</c>, gate order r, z, n: n = tanh(W_in x + b_in + r·(W_hn h + b_hn)).</summary>
public sealed class GRU : RecurrentBase
{
    public GRU(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0,
        bool bidirectional = false, DType dtype = DType.Float32)
        : base(inputSize, hiddenSize, 3, numLayers, bias, batchFirst, dropout, bidirectional, dtype) { }

    public GRU(Graph g, string name, int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false,
        double dropout = 0, bool bidirectional = false, DType dtype = DType.Float32)
        : this(inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, dtype) => BindAs(g, name);

    /// <summary>As PyTorch's <c>output, h_n = gru(x, h0)</c>; <paramref name="lengths"/> [N] as a packed sequence's.</summary>
    public (Tensor Output, Tensor HN) Forward(Tensor x, Tensor? h0 = null, Tensor? lengths = null)
    {
        var (output, hn, _) = Run(x, h0, null, lengths);
        return (output, hn);
    }

    protected override (Tensor, Tensor?) Cell(Tensor xp, Tensor? h, Tensor? c, Tensor whh, Tensor? bhh) =>
        (Cells.Gru(xp, h, whh, bhh, HiddenSize), null);
}
