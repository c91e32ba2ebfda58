using GraphNet.Nn;

namespace GraphNet.Compiler.Tests;

/// <summary>
/// Stacked, bidirectional recurrent layers with initial states, against the one-step cells stepped
/// by hand with the same weights (forward in time, then backward for the reverse direction, each
/// layer reading the concatenated outputs of the one below), and against the interpreter.
/// </summary>
public class RecurrentStackTests
{
    private const int T = 4, Batch = 3, In = 3, H = 5;

    /// <summary>The cell's parameter of the same kind as a layer's: weight_ih_l1_reverse → weight_ih.</summary>
    private static string CellName(string layerName) => layerName.Split('_') is [var kind, var what, ..] ? $"{kind}_{what}" : layerName;

    private static Tensor Step(Tensor seq, int t) => F.Reshape(F.Slice(seq, 0, t, 1), -1, seq.Shape[2]);

    [Theory]
    [InlineData("lstm"), InlineData("gru"), InlineData("rnn_relu")]
    public void ATwoLayerBidirectionalLayerIsItsCellsSteppedByHand(string kind)
    {
        var g = new Graph(seed: 3);
        var x = g.Placeholder([T, -1, In], "x");
        int gatesOf = kind == "lstm" ? 4 : kind == "gru" ? 3 : 1;
        var h0 = g.Placeholder([4, -1, H], "h0");
        var c0 = g.Placeholder([4, -1, H], "c0");
        RecurrentBase layer = kind switch
        {
            "lstm" => new LSTM(g, "layer", In, H, numLayers: 2, bidirectional: true),
            "gru" => new GRU(g, "layer", In, H, numLayers: 2, bidirectional: true),
            _ => new RNN(g, "layer", In, H, numLayers: 2, nonlinearity: "relu", bidirectional: true),
        };
        Tensor output, hn; Tensor? cn = null;
        switch (layer)
        {
            case LSTM lstm: (output, (hn, var c)) = lstm.Forward(x, (h0, c0)); cn = c; break;
            case GRU gru: (output, hn) = gru.Forward(x, h0); break;
            default: (output, hn) = ((RNN)layer).Forward(x, h0); break;
        }
        Assert.Equal("[4,N,10]", output.Shape.ToString());
        Assert.Equal("[4,N,5]", hn.Shape.ToString());

        // The same computation from cells, one per layer and direction, each with that direction's weights.
        var cells = new Module[4];
        var seq = x;
        var lastH = new Tensor[4];
        var lastC = new Tensor[4];
        for (int l = 0; l < 2; l++)
        {
            var outs = new Tensor[2][];
            for (int d = 0; d < 2; d++)
            {
                int k = l * 2 + d, input = l == 0 ? In : 2 * H;
                cells[k] = kind switch
                {
                    "lstm" => new LSTMCell(g, $"cell{k}", input, H),
                    "gru" => new GRUCell(g, $"cell{k}", input, H),
                    _ => new RNNCell(g, $"cell{k}", input, H, nonlinearity: "relu"),
                };
                Tensor h = Step(h0, k), c = Step(c0, k);
                outs[d] = new Tensor[T];
                for (int s = 0; s < T; s++)
                {
                    int t = d == 0 ? s : T - 1 - s;
                    switch (cells[k])
                    {
                        case LSTMCell lc: (h, c) = lc.Forward(Step(seq, t), (h, c)); break;
                        case GRUCell gc: h = gc.Forward(Step(seq, t), h); break;
                        case RNNCell rc: h = rc.Forward(Step(seq, t), h); break;
                    }
                    outs[d][t] = F.Reshape(h, 1, -1, H);
                }
                (lastH[k], lastC[k]) = (F.Reshape(h, 1, -1, H), F.Reshape(c, 1, -1, H));
            }
            seq = F.Concat([F.Concat(outs[0], 0), F.Concat(outs[1], 0)], 2);
        }
        using var session = new Session(g, new SessionOptions { UseCompileCache = false });
        foreach (var (name, _) in layer.NamedParameters())
        {
            int k = (name.Contains("_l1") ? 2 : 0) + (name.EndsWith("_reverse") ? 1 : 0);
            session.SetVariable($"cell{k}.{CellName(name)}", session.GetVariable($"layer.{name}"));
        }
        Assert.Equal(4 * 4, layer.NamedParameters().Count());
        Assert.Equal(gatesOf * H, layer.NamedParameters().First(p => p.Name == "weight_ih_l1_reverse").Parameter.Shape[0]);
        Assert.Equal(2 * H, layer.NamedParameters().First(p => p.Name == "weight_ih_l1_reverse").Parameter.Shape[1]);
        var rng = new Random(7);
        var feeds = new Dictionary<Tensor, NDArray>
        {
            [x] = BackendParity.Random(rng, [T, Batch, In]), [h0] = BackendParity.Random(rng, [4, Batch, H]),
        };
        if (cn is not null) feeds[c0] = BackendParity.Random(rng, [4, Batch, H]);
        // Pairs: the layer's value, then the cells'.
        Tensor[] fetches = [output, seq, hn, F.Concat(lastH, 0), .. cn is null ? Array.Empty<Tensor>() : [cn, F.Concat(lastC, 0)]];
        var r = session.Run(fetches, feeds);
        for (int i = 0; i < r.Length; i += 2)
            Assert.Equal(r[i + 1].ToDoubleArray(), r[i].ToDoubleArray(), (p, q) => Math.Abs(p - q) <= 1e-5);
    }

    [Theory]
    [InlineData("gru"), InlineData("rnn_tanh"), InlineData("rnn_relu")]
    public void OneCellStepIsPyTorchsFormula(string kind)
    {
        // PyTorch's documented equations, in plain loops over the session's weights.
        var g = new Graph(seed: 9);
        var x = g.Placeholder([2, In], "x");
        var h = g.Placeholder([2, H], "h");
        RecurrentCell cell = kind == "gru" ? new GRUCell(g, "cell", In, H) : new RNNCell(g, "cell", In, H, nonlinearity: kind[4..]);
        var next = cell is GRUCell gc ? gc.Forward(x, h) : ((RNNCell)cell).Forward(x, h);
        using var s = new Session(g, new SessionOptions { UseCompileCache = false });
        var rng = new Random(4);
        var (xv, hv) = (BackendParity.Random(rng, [2, In]), BackendParity.Random(rng, [2, H]));
        var got = s.Run([next], new Dictionary<Tensor, NDArray> { [x] = xv, [h] = hv })[0].As<float>();
        float[] wih = s.GetVariable("cell.weight_ih").As<float>().ToArray(), whh = s.GetVariable("cell.weight_hh").As<float>().ToArray();
        float[] bih = s.GetVariable("cell.bias_ih").As<float>().ToArray(), bhh = s.GetVariable("cell.bias_hh").As<float>().ToArray();
        var (X, Hs) = (xv.As<float>().ToArray(), hv.As<float>().ToArray());
        double Wx(int n, int row) { double v = bih[row]; for (int i = 0; i < In; i++) v += wih[row * In + i] * X[n * In + i]; return v; }
        double Wh(int n, int row) { double v = bhh[row]; for (int i = 0; i < H; i++) v += whh[row * H + i] * Hs[n * H + i]; return v; }
        static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));
        for (int n = 0; n < 2; n++)
            for (int j = 0; j < H; j++)
            {
                double want;
                if (kind == "gru")
                {
                    double r = Sigmoid(Wx(n, j) + Wh(n, j)), z = Sigmoid(Wx(n, H + j) + Wh(n, H + j));
                    double nn = Math.Tanh(Wx(n, 2 * H + j) + r * Wh(n, 2 * H + j));
                    want = (1 - z) * nn + z * Hs[n * H + j];
                }
                else want = kind == "rnn_tanh" ? Math.Tanh(Wx(n, j) + Wh(n, j)) : Math.Max(0, Wx(n, j) + Wh(n, j));
                Assert.Equal(want, got[n * H + j], 1e-5);
            }
    }

    [Fact]
    public void BatchFirstTransposesTheOutputAndNotTheStates()
    {
        var g = new Graph(seed: 1);
        var x = g.Placeholder([-1, T, In], "x");
        var lstm = new LSTM(g, "lstm", In, H, numLayers: 3, batchFirst: true);
        var (output, (hn, cn)) = lstm.Forward(x);
        Assert.Equal("[N,4,5]", output.Shape.ToString());
        Assert.Equal("[3,N,5]", hn.Shape.ToString());
        Assert.Equal("[3,N,5]", cn.Shape.ToString());
        using var s = new Session(g, new SessionOptions { UseCompileCache = false });
        var r = s.Run([output, hn], new Dictionary<Tensor, NDArray> { [x] = BackendParity.Random(new Random(2), [2, T, In]) });
        // The top layer's last h is the output at the last step.
        var (o, h) = (r[0].As<float>(), r[1].As<float>());
        for (int n = 0; n < 2; n++)
            for (int j = 0; j < H; j++)
                Assert.Equal(o[(n * T + T - 1) * H + j], h[(2 * 2 + n) * H + j]);
    }

    [Fact]
    public void DropoutBetweenLayersRunsOnlyInTraining()
    {
        var g = new Graph(seed: 1);
        var x = g.Placeholder([T, -1, In], "x");
        var gru = new GRU(g, "gru", In, H, numLayers: 2, dropout: 0.5);
        var (output, _) = gru.Forward(x);
        var loss = F.Sum(F.Square(output));
        using var s = new Session(g, new SessionOptions { UseCompileCache = false });
        var feed = new Dictionary<Tensor, NDArray> { [x] = BackendParity.Random(new Random(3), [T, 2, In]) };
        double train = s.Run([loss], feed)[0].Item();
        gru.Eval();
        double eval1 = s.Run([loss], feed)[0].Item(), eval2 = s.Run([loss], feed)[0].Item();
        Assert.Equal(eval1, eval2);
        Assert.NotEqual(train, eval1);
        gru.Train();
        Assert.NotEqual(eval1, s.Run([loss], feed)[0].Item());
    }

    [Fact]
    public void WrongArgumentsAreClearErrors()
    {
        var g = new Graph();
        var x = g.Placeholder([T, -1, In], "x");
        var (h1, c1) = (g.Placeholder([1, -1, H], "h"), g.Placeholder([1, -1, H], "c"));
        var e = Assert.Throws<GraphException>(() => new LSTM(g, "a", In, H, numLayers: 2).Forward(x, (h1, c1)));
        Assert.Contains("h0 must be [num_layers·directions = 2, N, hidden_size = 5]", e.Message);
        Assert.Contains("nonlinearity 'sigmoid'", Assert.Throws<GraphException>(() => new RNN(In, H, nonlinearity: "sigmoid")).Message);
        var x7 = g.Placeholder([T, -1, 7], "x7");
        Assert.Contains("expects 3 input features", Assert.Throws<GraphException>(() => new GRU(g, "b", In, H).Forward(x7)).Message);
        Assert.Contains("dropout", Assert.Throws<GraphException>(() => new GRU(In, H, dropout: 1.5)).Message);
        Assert.DoesNotContain(new LSTM(g, "nobias", In, H, bias: false).NamedParameters(), p => p.Name.StartsWith("bias"));
    }

    [Fact]
    public void AStackedBidirectionalLstmWithStatesMatchesTheInterpreter() => CheckStack(null);

    internal static void CheckStack(SessionOptions? options)
    {
        var g = new Graph(seed: 5);
        var x = g.Placeholder([T, -1, In], "x");
        var h0 = g.Placeholder([4, -1, H], "h0");
        var c0 = g.Placeholder([4, -1, H], "c0");
        var (output, (hn, cn)) = new LSTM(g, "lstm", In, H, numLayers: 2, bidirectional: true).Forward(x, (h0, c0));
        var (gOut, gh) = new GRU(g, "gru", 2 * H, H, bidirectional: true).Forward(output);
        var loss = F.Sum(F.Square(gOut)) + F.Sum(hn * cn) + F.Sum(gh);
        var grads = F.Gradients([loss], g.TrainableVariables.Concat([x, h0, c0]).ToList()).Cast<Tensor>().ToArray();
        var rng = new Random(11);
        BackendParity.Check(g, [loss, .. grads], new Dictionary<Tensor, NDArray>
        {
            [x] = BackendParity.Random(rng, [T, 2, In]), [h0] = BackendParity.Random(rng, [4, 2, H]), [c0] = BackendParity.Random(rng, [4, 2, H]),
        }, "stacked bidirectional lstm + gru", options: options);
    }
}

/// <summary>Sequences of different lengths in one padded batch, against each sequence run alone at its own length.</summary>
public class PaddedSequenceTests
{
    private const int T = 4, In = 3, H = 4;
    private static readonly long[] Lengths = [4, 2, 3];

    [Theory]
    [InlineData("lstm", false), InlineData("gru", false), InlineData("gru", true)]
    public void APaddedBatchComputesWhatEachSequenceDoesAloneWithTheSameGradients(string kind, bool unroll)
    {
        var g = new Graph(seed: 6);
        int n = Lengths.Length;
        var x = g.Placeholder([T, n, In], "x"); // a static batch, so each sequence can be sliced out of it
        var lengths = g.Placeholder(DType.Int64, [n], "lengths");
        RecurrentBase layer = kind == "lstm"
            ? new LSTM(g, "rnn", In, H, numLayers: 2, bidirectional: true) { Unroll = unroll }
            : new GRU(g, "rnn", In, H, numLayers: 2, bidirectional: true) { Unroll = unroll };
        (Tensor Output, Tensor HN) Run(Tensor input, Tensor? lens) => layer switch
        {
            LSTM lstm => lstm.Forward(input, lengths: lens) is var (o, (h, _)) ? (o, h) : default,
            _ => ((GRU)layer).Forward(input, lengths: lens),
        };
        var rng = new Random(8);
        var r = g.Constant(BackendParity.Random(rng, [T, n, 2 * H]), "r");
        var q = g.Constant(BackendParity.Random(rng, [4, n, H]), "q");
        var (padded, hn) = Run(x, lengths);
        var lossPadded = F.Sum(padded * r) + F.Sum(hn * q);
        // Alone: sequence i is rows [0, len) of column i, a batch of one.
        Tensor lossAlone = g.Scalar(0.0, DType.Float32);
        for (int i = 0; i < n; i++)
        {
            int len = (int)Lengths[i];
            var xi = F.Slice(F.Slice(x, 0, 0, len), 1, i, 1);
            var (oi, hi) = Run(xi, null);
            lossAlone = lossAlone + F.Sum(oi * F.Slice(F.Slice(r, 0, 0, len), 1, i, 1)) + F.Sum(hi * F.Slice(q, 1, i, 1));
        }
        var parameters = layer.Parameters().ToList();
        var gradsPadded = F.Gradients([lossPadded], [.. parameters, x]).Cast<Tensor>().ToArray();
        var gradsAlone = F.Gradients([lossAlone], [.. parameters, x]).Cast<Tensor>().ToArray();
        using var s = new Session(g, new SessionOptions { UseCompileCache = false });
        var feeds = new Dictionary<Tensor, NDArray> { [x] = BackendParity.Random(rng, [T, n, In]), [lengths] = NDArray.From(Lengths, n) };
        var a = s.Run([lossPadded, padded, .. gradsPadded], feeds);
        var b = s.Run([lossAlone, .. gradsAlone], new Dictionary<Tensor, NDArray> { [x] = feeds[x] });
        Assert.Equal(b[0].Item(), a[0].Item(), 1e-4);
        for (int k = 0; k < gradsAlone.Length; k++)
            Assert.Equal(b[1 + k].ToDoubleArray(), a[2 + k].ToDoubleArray(), (p, v) => Math.Abs(p - v) <= 1e-5 * (1 + Math.Abs(p)));
        // The padded steps' outputs are zeros, as pad_packed_sequence pads.
        var output = a[1].As<float>();
        for (int t = 0; t < T; t++)
            for (int i = 0; i < n; i++)
                if (t >= Lengths[i])
                    for (int j = 0; j < 2 * H; j++) Assert.Equal(0f, output[(t * n + i) * 2 * H + j]);
    }
}
