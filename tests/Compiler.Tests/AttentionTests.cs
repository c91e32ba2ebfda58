using GraphNet.Nn;

namespace GraphNet.Compiler.Tests;

/// <summary>Attention against plain loops over PyTorch's formulas, and the Transformer layers' wiring and names.</summary>
public class AttentionTests
{
    private static double[] Values(NDArray a) => a.ToDoubleArray();

    /// <summary>softmax(q kᵀ scale + bias) v for one batch entry, in doubles; bias null where there is none.</summary>
    private static double[] Attend(double[] q, double[] k, double[] v, int L, int S, int E, int Ev, Func<int, int, double> bias)
    {
        var o = new double[L * Ev];
        for (int i = 0; i < L; i++)
        {
            var w = new double[S];
            for (int j = 0; j < S; j++)
            {
                double s = 0;
                for (int e = 0; e < E; e++) s += q[i * E + e] * k[j * E + e];
                w[j] = s / Math.Sqrt(E) + bias(i, j);
            }
            double max = w.Max(), sum = w.Sum(x => Math.Exp(x - max));
            for (int j = 0; j < S; j++)
                for (int c = 0; c < Ev; c++) o[i * Ev + c] += Math.Exp(w[j] - max) / sum * v[j * Ev + c];
        }
        return o;
    }

    [Theory]
    [InlineData("none"), InlineData("causal"), InlineData("bool"), InlineData("float")]
    public void ScaledDotProductAttentionIsPyTorchsFormula(string mask)
    {
        const int B = 2, L = 3, S = 5, E = 4, Ev = 3;
        var g = new Graph();
        var rng = new Random(1);
        var (qv, kv, vv) = (BackendParity.Random(rng, [B, L, E]), BackendParity.Random(rng, [B, S, E]), BackendParity.Random(rng, [B, S, Ev]));
        var allowed = new bool[L * S];
        for (int i = 0; i < allowed.Length; i++) allowed[i] = i % 3 != 1 || i % S == 0; // every row keeps a key
        var added = BackendParity.Random(rng, [L, S]);
        Tensor? m = mask switch
        {
            "bool" => g.Constant(NDArray.From(allowed, L, S)),
            "float" => g.Constant(added),
            _ => null,
        };
        var y = F.ScaledDotProductAttention(g.Constant(qv), g.Constant(kv), g.Constant(vv), m, isCausal: mask == "causal");
        using var s = new Session(g, new SessionOptions { UseCompileCache = false });
        var got = Values(s.Run([y], new Dictionary<Tensor, NDArray>())[0]);
        double Bias(int i, int j) => mask switch
        {
            "causal" => j > i ? double.NegativeInfinity : 0,
            "bool" => allowed[i * S + j] ? 0 : double.NegativeInfinity,
            "float" => added.GetDouble(i * S + j),
            _ => 0,
        };
        for (int b = 0; b < B; b++)
        {
            var want = Attend(Values(qv)[(b * L * E)..((b + 1) * L * E)], Values(kv)[(b * S * E)..((b + 1) * S * E)],
                Values(vv)[(b * S * Ev)..((b + 1) * S * Ev)], L, S, E, Ev, Bias);
            for (int i = 0; i < want.Length; i++) Assert.Equal(want[i], got[b * L * Ev + i], 1e-5);
        }
    }

    [Fact]
    public void MultiheadAttentionIsPyTorchsComputationWithItsMasks()
    {
        // Time-major [L, N, E] query, [S, N, E] key and value, two heads, a key padding mask and a float attn_mask.
        const int N = 2, L = 3, S = 4, E = 4, Heads = 2, D = E / Heads;
        var g = new Graph(seed: 3);
        var rng = new Random(2);
        var (qv, kv, vv) = (BackendParity.Random(rng, [L, N, E]), BackendParity.Random(rng, [S, N, E]), BackendParity.Random(rng, [S, N, E]));
        var padding = new bool[N * S];
        padding[0 * S + 3] = padding[1 * S + 1] = true; // sample 0 ignores key 3, sample 1 key 1
        var added = BackendParity.Random(rng, [L, S]);
        var mha = new MultiheadAttention(g, "mha", E, Heads);
        var (output, weights) = mha.Forward(g.Constant(qv), g.Constant(kv), g.Constant(vv), g.Constant(NDArray.From(padding, N, S)),
            attnMask: g.Constant(added));
        Assert.Equal("[3,2,4]", output.Shape.ToString());
        Assert.Equal("[2,3,4]", weights!.Shape.ToString());
        Assert.Equal(["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"], mha.StateDict().Select(e => e.Name));
        using var s = new Session(g, new SessionOptions { UseCompileCache = false });
        s.SetVariable("mha.in_proj_bias", BackendParity.Random(rng, [3 * E]));
        s.SetVariable("mha.out_proj.bias", BackendParity.Random(rng, [E]));
        var r = s.Run([output, weights], new Dictionary<Tensor, NDArray>());
        double[] W = Values(s.GetVariable("mha.in_proj_weight")), Bi = Values(s.GetVariable("mha.in_proj_bias"));
        double[] Wo = Values(s.GetVariable("mha.out_proj.weight")), Bo = Values(s.GetVariable("mha.out_proj.bias"));
        // Projection `part` (0 q, 1 k, 2 v) of row t of sample n of x [T, N, E], head h: its d-vector.
        double[] Head(NDArray x, int part, int n, int t, int h)
        {
            var row = new double[D];
            for (int c = 0; c < D; c++)
            {
                int outRow = part * E + h * D + c;
                double acc = Bi[outRow];
                for (int e = 0; e < E; e++) acc += W[outRow * E + e] * x.GetDouble((t * N + n) * E + e);
                row[c] = acc;
            }
            return row;
        }
        for (int n = 0; n < N; n++)
        {
            var concat = new double[L * E];
            var meanWeights = new double[L * S];
            for (int h = 0; h < Heads; h++)
            {
                double[] q = [.. Enumerable.Range(0, L).SelectMany(t => Head(qv, 0, n, t, h))];
                double[] k = [.. Enumerable.Range(0, S).SelectMany(t => Head(kv, 1, n, t, h))];
                double[] v = [.. Enumerable.Range(0, S).SelectMany(t => Head(vv, 2, n, t, h))];
                double Bias(int i, int j) => added.GetDouble(i * S + j) + (padding[n * S + j] ? double.NegativeInfinity : 0);
                var o = Attend(q, k, v, L, S, D, D, Bias);
                for (int i = 0; i < L; i++)
                    for (int c = 0; c < D; c++) concat[i * E + h * D + c] = o[i * D + c];
                // The head's weights (an identity value matrix reads them out).
                var eye = new double[S * S];
                for (int j = 0; j < S; j++) eye[j * S + j] = 1;
                var w = Attend(q, k, eye, L, S, D, S, Bias);
                for (int i = 0; i < L * S; i++) meanWeights[i] += w[i] / Heads;
            }
            for (int i = 0; i < L; i++)
                for (int e = 0; e < E; e++)
                {
                    double want = Bo[e];
                    for (int c = 0; c < E; c++) want += Wo[e * E + c] * concat[i * E + c];
                    Assert.Equal(want, r[0].GetDouble((i * N + n) * E + e), 1e-5);
                }
            for (int i = 0; i < L * S; i++) Assert.Equal(meanWeights[i], r[1].GetDouble(n * L * S + i), 1e-5);
        }
    }

    [Theory]
    [InlineData(false), InlineData(true)]
    public void AnEncoderLayerIsAttentionAndFeedForwardWithResidualsAndNorms(bool normFirst)
    {
        const int T = 3, N = 2, E = 4;
        var g = new Graph(seed: 5);
        var x = g.Placeholder([T, -1, E], "x");
        var layer = new TransformerEncoderLayer(E, 2, dimFeedforward: 6, dropout: 0, normFirst: normFirst) { Name = "layer" };
        var y = layer.Forward(x, F.CausalMask(g, T));
        // The same from the layer's parts: a second attention module and plain ops over the same weights.
        var mha = new MultiheadAttention(g, "mha", E, 2);
        Tensor Var(string name) => g.Variables.Single(v => ((VariableOp)v.Op).VarName == $"layer.{name}").Outputs[0];
        Tensor Norm(Tensor t, int i) => F.LayerNorm(t, [E], Var($"norm{i}.weight"), Var($"norm{i}.bias"));
        Tensor Attention(Tensor t) => mha.Forward(t, t, t, attnMask: F.CausalMask(g, T), needWeights: false).Output;
        Tensor FeedForward(Tensor t) => F.MatMul(F.Relu(F.MatMul(t, Var("linear1.weight"), transB: true) + Var("linear1.bias")),
            Var("linear2.weight"), transB: true) + Var("linear2.bias");
        Tensor want;
        if (normFirst) { var a = x + Attention(Norm(x, 1)); want = a + FeedForward(Norm(a, 2)); }
        else { var a = Norm(x + Attention(x), 1); want = Norm(a + FeedForward(a), 2); }
        using var s = new Session(g, new SessionOptions { UseCompileCache = false });
        foreach (var p in new[] { "in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias" })
            s.SetVariable($"mha.{p}", s.GetVariable($"layer.self_attn.{p}"));
        var r = s.Run([y, want], new Dictionary<Tensor, NDArray> { [x] = BackendParity.Random(new Random(4), [T, N, E]) });
        Assert.Equal(Values(r[1]), Values(r[0]), (a, b) => Math.Abs(a - b) <= 1e-5);
    }

    [Fact]
    public void TheTransformerModulesHavePyTorchsParameterNames()
    {
        var encoder = new TransformerEncoder(() => new TransformerEncoderLayer(8, 2, 16), 2, new LayerNorm([8]));
        var decoder = new TransformerDecoderLayer(8, 2, 16, activation: "gelu");
        var g = new Graph();
        encoder.Forward(g.Placeholder([5, -1, 8], "src"));
        decoder.Forward(g.Placeholder([4, -1, 8], "tgt"), g.Placeholder([5, -1, 8], "memory"));
        string[] layer = ["self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
            "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"];
        Assert.Equal([.. layer.Select(n => "layers.0." + n), .. layer.Select(n => "layers.1." + n), "norm.weight", "norm.bias"],
            encoder.StateDict().Select(e => e.Name));
        Assert.Equal(["self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
            "multihead_attn.in_proj_weight", "multihead_attn.in_proj_bias", "multihead_attn.out_proj.weight", "multihead_attn.out_proj.bias",
            "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias",
            "norm3.weight", "norm3.bias"], decoder.StateDict().Select(e => e.Name));
        Assert.Contains("activation 'tanh'", Assert.Throws<GraphException>(() => new TransformerEncoderLayer(8, 2, activation: "tanh")).Message);
        Assert.Contains("divisible", Assert.Throws<GraphException>(() => new MultiheadAttention(10, 3)).Message);
    }

    [Fact]
    public void ThePositionalEncodingIsTheSinusoidTable()
    {
        var g = new Graph();
        var pos = new PositionalEncoding(6, dropout: 0, maxLen: 10);
        var x = g.Placeholder([4, -1, 6], "x");
        var y = pos.Forward(x);
        using var s = new Session(g, new SessionOptions { UseCompileCache = false });
        var r = s.Run([y], new Dictionary<Tensor, NDArray> { [x] = NDArray.Zeros(DType.Float32, 4, 1, 6) })[0];
        for (int t = 0; t < 4; t++)
            for (int i = 0; i < 6; i += 2)
            {
                double angle = t / Math.Pow(10000, (double)i / 6);
                Assert.Equal(Math.Sin(angle), r.GetDouble(t * 6 + i), 1e-6);
                Assert.Equal(Math.Cos(angle), r.GetDouble(t * 6 + i + 1), 1e-6);
            }
        Assert.Equal(["pe"], pos.StateDict().Select(e => e.Name));
    }

    [Fact]
    public void EncoderAndDecoderLayersMatchTheInterpreter() => CheckLayers(null);

    internal static void CheckLayers(SessionOptions? options)
    {
        const int T = 3, S = 4, E = 4;
        var g = new Graph(seed: 7);
        var src = g.Placeholder([S, -1, E], "src");
        var tgt = g.Placeholder([T, -1, E], "tgt");
        var memory = new TransformerEncoderLayer(E, 2, 8, dropout: 0, activation: "gelu").Forward(src);
        var y = new TransformerDecoderLayer(E, 2, 8, dropout: 0, normFirst: true).Forward(tgt, memory, F.CausalMask(g, T));
        var loss = F.Sum(F.Square(y));
        var grads = F.Gradients([loss], g.TrainableVariables.Concat([src, tgt]).ToList()).Cast<Tensor>().ToArray();
        var rng = new Random(9);
        BackendParity.Check(g, [loss, .. grads], new Dictionary<Tensor, NDArray>
        {
            [src] = BackendParity.Random(rng, [S, 2, E]), [tgt] = BackendParity.Random(rng, [T, 2, E]),
        }, "transformer layers", options: options);
    }
}
