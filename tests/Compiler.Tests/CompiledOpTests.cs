using GraphNet.Nn;

namespace GraphNet.Compiler.Tests;

/// <summary>Every op, forward and backward, compiled against the interpreter (tolerance: 1e-4 relative, 1e-5 absolute).</summary>
public class CompiledOpTests
{
    /// <summary>(name, input shapes with -1 for the batch, input range, model)</summary>
    public static readonly (string Name, int[][] Shapes, double Lo, double Hi, Func<Tensor[], Tensor> Build)[] Cases =
    [
        .. Pointwise.Unary.Select(f => (f.Name, new[] { new[] { -1, 37 } }, f.Name is "log" or "sqrt" or "rsqrt" ? 0.5 : -2.0, 2.0, (Func<Tensor[], Tensor>)(x => F.Unary(f, x[0], 0.1)))),
        .. Pointwise.Binary.Where(f => !f.Name.EndsWith("_grad")).Select(f => (f.Name, new[] { new[] { -1, 5, 7 }, new[] { 5, 1 } }, f.Name is "pow" or "div" ? 0.5 : -2.0, 2.0, (Func<Tensor[], Tensor>)(x => F.Binary(f, x[0], x[1])))),
        ("compare_where", [[-1, 6], [6]], -1, 1, x => F.Where(F.Less(x[0], x[1]), x[0], x[1] * 2.0)),
        ("cast_bool", [[-1, 6]], -1, 1, x => F.Cast(F.Greater(x[0], F.ZerosLike(x[0])), DType.Float32) * x[0]),
        ("reduce_sum_rows", [[-1, 9]], -1, 1, x => F.Sum(F.Exp(x[0]), [1])),
        ("reduce_mean_cols", [[-1, 9]], -1, 1, x => F.Mean(x[0] * x[0], [0], keepDims: true)),
        ("reduce_max_all", [[-1, 4, 5]], -1, 1, x => F.Max(x[0])),
        ("reduce_min_mid", [[-1, 4, 5]], -1, 1, x => F.Min(x[0], [1])),
        ("reduce_sum_nchw_bias", [[-1, 3, 4, 4]], -1, 1, x => F.Sum(F.Relu(x[0]), [0, 2, 3])),
        ("softmax", [[-1, 10]], -3, 3, x => F.Softmax(x[0], 1)),
        ("log_softmax", [[-1, 10]], -3, 3, x => F.LogSoftmax(x[0], -1)),
        ("matmul", [[-1, 16], [16, 8]], -1, 1, x => F.MatMul(x[0], x[1])),
        ("matmul_tb", [[-1, 16], [8, 16]], -1, 1, x => F.MatMul(x[0], x[1], transB: true)),
        ("matmul_batched_shared", [[-1, 3, 16], [16, 8]], -1, 1, x => F.MatMul(x[0], x[1])),
        ("transpose", [[-1, 3, 4]], -1, 1, x => F.Transpose(x[0], 0, 2, 1) * 2.0),
        ("reshape_flatten", [[-1, 2, 3, 4]], -1, 1, x => F.Exp(F.Flatten(x[0]))),
        // view(-1, V) of a time-major [T,N,V]: rows 3·N, a matmul and a mean over them, and back.
        ("reshape_batch_multiple", [[3, -1, 5], [5, 4]], -1, 1, x =>
        {
            var rows = F.MatMul(F.Reshape(x[0], [-1, 5]), x[1]);
            return F.Reshape(F.LogSoftmax(rows, 1) * F.Mean(rows, [0], keepDims: true), [3, -1, 4]);
        }),
        ("concat_slice", [[-1, 3], [-1, 2]], -1, 1, x => F.Slice(F.Concat([x[0], x[1]], 1), 1, 1, 3)),
        // Slices read in place by loops (strided leaves), and ones that must stay copies.
        ("slice_views", [[-1, 6, 5]], -1, 1, x => F.Exp(F.Slice(x[0], 1, 2, 3)) + F.Slice(x[0], 1, 0, 3) * 0.5),
        ("slice_step_reshaped", [[-1, 5, 6]], -1, 1, x => F.Sigmoid(F.Reshape(F.Slice(x[0], 1, 3, 1), [-1, 6])) * 2.0),
        ("slice_rows_not_aligned", [[-1, 4, 6]], -1, 1, x => F.Tanh(F.Reshape(F.Slice(x[0], 2, 1, 4), [-1, 16]))),
        ("slice_into_reduce", [[-1, 8]], -1, 1, x => F.Sum(F.Square(F.Slice(x[0], 1, 2, 4)), [1])),
        ("slice_broadcast_read", [[-1, 6], [3]], -1, 1, x => F.Slice(x[0], 1, 1, 3) * x[1]),
        ("slice_of_reused_buffer", [[-1, 4], [4, 8]], -1, 1, x =>
        {
            // m's only element-for-element reader is the matmul's epilogue, which could write its
            // result over m; a later loop still reads a slice of m in place.
            var m = F.MatMul(x[0], x[1]);
            var e = m * 2.0;
            return F.Concat([e, F.Exp(F.Slice(m, 1, 2, 3))], 1);
        }),
        // Concatenations whose pieces their loops store in place, and ones that must stay copies.
        ("concat_views", [[-1, 4], [-1, 3]], -1, 1, x => F.Concat([F.Exp(x[0]), F.Tanh(x[1]) * 2.0], 1) * 1.5),
        ("concat_views_middle_axis", [[-1, 2, 5], [-1, 3, 5]], -1, 1, x => F.Sigmoid(F.Concat([F.Exp(x[0]), x[1] * x[1]], 1))),
        ("concat_epilogue_pieces", [[-1, 6], [6, 4]], -1, 1, x => { var m = F.MatMul(x[0], x[1]); return F.Concat([F.Relu(m), F.Tanh(m)], 1); }),
        ("concat_column_pieces", [[-1, 1], [-1, 3]], -1, 1, x => F.Concat([F.Exp(x[0]), F.Exp(x[1])], 1)),
        ("concat_then_slice", [[-1, 4], [-1, 4]], -1, 1, x => F.Exp(F.Slice(F.Concat([F.Tanh(x[0]), F.Sigmoid(x[1])], 1), 1, 2, 4))),
        ("pad", [[-1, 2, 3]], -1, 1, x => F.Pad(x[0], [0, 0, 1, 1, 2, 0], 0.5)),
        ("gather", [[7, 3]], -1, 1, x => F.Gather(x[0], x[0].Graph.Constant(NDArray.From(new long[] { 1, 6, 1 }, 3)))),
        ("one_hot_nll", [[4, 5]], -1, 1, x => F.NllLoss(F.LogSoftmax(x[0], 1), x[0].Graph.Constant(NDArray.From(new long[] { 0, 4, 2, 1 }, 4)))),
        ("conv2d", [[-1, 2, 7, 7], [4, 2, 3, 3]], -1, 1, x => F.Conv2d(x[0], x[1], null, stride: 2, padding: 1)),
        // Winograd-sized convolutions whose bias add and ReLU the convolution applies itself, and one whose output is read twice.
        // (Inputs in ±0.3: ILGPU's im2col and Winograd round sums of 144 products differently.)
        ("conv2d_bias_relu", [[-1, 16, 6, 6], [16, 16, 3, 3], [16, 1, 1]], -0.3, 0.3, x => F.Relu(F.Conv2d(x[0], x[1], null, padding: 1) + x[2])),
        ("conv2d_bias_only", [[-1, 16, 6, 6], [16, 16, 3, 3], [1, 16, 1, 1]], -0.3, 0.3, x => x[2] + F.Conv2d(x[0], x[1], null, padding: 1)),
        ("conv2d_relu_only", [[-1, 16, 7, 7], [16, 16, 3, 3]], -0.3, 0.3, x => F.Relu(F.Conv2d(x[0], x[1], null)) * 2.0),
        ("conv2d_output_shared", [[-1, 16, 6, 6], [16, 16, 3, 3], [16, 1, 1]], -0.3, 0.3, x => { var c = F.Conv2d(x[0], x[1], null, padding: 1); return F.Relu(c + x[2]) * c; }),
        ("conv2d_groups_dilation", [[-1, 4, 7, 7], [4, 2, 3, 3]], -1, 1, x => F.Conv2d(x[0], x[1], null, 1, 1, 2, 2)),
        ("conv_transpose2d", [[-1, 2, 4, 4], [2, 3, 3, 3]], -1, 1, x => F.ConvTranspose2d(x[0], x[1], null, 2, 1, 1)),
        ("max_pool", [[-1, 2, 6, 6]], -1, 1, x => F.MaxPool2d(x[0], 2)),
        ("min_pool", [[-1, 2, 6, 6]], -1, 1, x => F.MinPool2d(x[0], 3, 2, 1)),
        ("avg_pool", [[-1, 2, 6, 6]], -1, 1, x => F.AvgPool2d(x[0], 2)),
        ("dropout", [[-1, 50]], -1, 1, x => F.Dropout(x[0], 0.3) * x[0]),
        ("mse", [[-1, 4], [-1, 4]], -1, 1, x => F.MseLoss(x[0], x[1])),
        ("bce_logits", [[-1, 4], [-1, 4]], 0, 1, x => F.BinaryCrossEntropyWithLogits(x[0] * 4.0 - 2.0, x[1])),
        ("argmax_cast", [[-1, 6]], -1, 1, x => F.Cast(F.ArgMax(x[0], 1), DType.Float32) + F.Sum(x[0], [1])),
        ("layer_group_norm", [[-1, 4, 6], [6], [4]], -1, 1, x => F.LayerNorm(x[0], [6], x[1]) * F.GroupNorm(x[0], 2, x[2], x[2])),
        ("pixel_shuffle_upsample_adaptive", [[-1, 4, 3, 3]], -1, 1, x =>
            F.UpsampleNearest(F.PixelShuffle(x[0], 2), 2) + F.UpsampleNearest(F.PixelShuffle(F.AdaptiveAvgPool2d(x[0], 2, 2), 2), 3)),
        ("conv1d_pool1d_dropout2d", [[-1, 4, 9], [6, 2, 3]], -1, 1, x =>
            F.AvgPool1d(F.MaxPool1d(F.Conv1d(x[0], x[1], null, 1, 1, 1, 2), 2, 1, 1), 3) * F.Sum(F.Dropout2d(F.Unflatten(x[0], 2, 3, 3), 0.4))),
        ("interpolate", [[-1, 2, 3, 4]], -1, 1, x => F.Interpolate(x[0], (5, 7), mode: "bilinear")
            * F.Interpolate(x[0], (5, 7), mode: "bilinear", alignCorners: true) + F.Interpolate(x[0], (5, 7))),
        ("embedding", [[5, 3]], -1, 1, x => F.Embedding(x[0].Graph.Constant(NDArray.From(new long[] { 4, 0, 1, 0 }, 2, 2)), x[0], paddingIdx: 0)),
        // Losses with PyTorch's options: weights, an ignored index and label smoothing over [N, C, D]; the others per element.
        ("cross_entropy_options", [[4, 3, 2], [3]], 0.2, 2, x => F.CrossEntropy(x[0],
            x[0].Graph.Constant(NDArray.From(new long[] { 0, 2, -100, 1, 2, 2, 1, 0 }, 4, 2)), x[1], -100, Reduction.Mean, 0.1)),
        ("bce_huber_kl", [[-1, 4], [-1, 4]], 0.05, 0.95, x => F.BinaryCrossEntropy(x[0], x[1], reduction: Reduction.Sum)
            + F.HuberLoss(x[0], x[1] * 3.0, delta: 0.5) + F.KlDiv(F.Log(x[0]), x[1], Reduction.BatchMean)
            + F.SmoothL1Loss(x[0] * 2.0, x[1], beta: 0.3)),
    ];

    public static TheoryData<string> Names => new(Cases.Select(c => c.Name));

    [Theory, MemberData(nameof(Names))]
    public void ForwardAndBackwardMatchTheInterpreter(string name) => CheckCase(name, null);

    /// <summary>Builds a case's forward and gradient fetches and compares a backend (default: compiled C#) with the interpreter.</summary>
    internal static void CheckCase(string name, SessionOptions? options)
    {
        var c = Cases.Single(k => k.Name == name);
        // A seed from the name that is the same in every process (string.GetHashCode is not), so a failure reproduces.
        var rng = new Random(name.Aggregate(17, (h, ch) => unchecked(h * 31 + ch)) & 0xffff);
        var g = new Graph(seed: 5);
        var inputs = c.Shapes.Select((s, i) => g.Placeholder(s, "x" + i)).ToArray();
        var y = c.Build(inputs);
        // A fed weighting makes every output element's gradient distinct.
        var weights = g.Placeholder(y.Shape.Dims.Select(d => d == Shape.Batch ? -1 : d).ToArray(), "weights");
        var loss = F.Sum(y * weights);
        var grads = F.Gradients([loss], inputs).Where(t => t is not null).Cast<Tensor>();
        var feeds = inputs.Select((p, i) => (p, BackendParity.Random(rng, c.Shapes[i].Select(d => d == -1 ? 4 : d).ToArray(), c.Lo, c.Hi)))
            .ToDictionary(t => t.p, t => t.Item2);
        feeds[weights] = BackendParity.Random(rng, y.Shape.Resolve(4), 0.5, 1.5);
        BackendParity.Check(g, [y, loss, .. grads], feeds, name, options: options);
    }

    [Fact]
    public void RecurrentLayersMatchTheInterpreter() => CheckRecurrent(null, 5);

    /// <summary>RNN, LSTM and GRU over a sequence of <paramref name="steps"/>, with every weight's gradient, against the interpreter.</summary>
    internal static void CheckRecurrent(SessionOptions? options, int steps)
    {
        var rng = new Random(3);
        var g = new Graph(seed: 2);
        var x = g.Placeholder([-1, steps, 3], "x");
        var (o1, h1) = new RNN(g, "rnn", 3, 4, batchFirst: true).Forward(x);
        var (o2, _) = new LSTM(g, "lstm", 3, 4, batchFirst: true).Forward(x);
        var (o3, h3) = new GRU(g, "gru", 3, 4, batchFirst: true).Forward(x);
        var loss = F.Sum(o1) + F.Sum(F.Square(o2)) + F.Sum(o3 * 0.5) + F.Sum(h1 * h3);
        var grads = F.Gradients([loss], g.TrainableVariables.Append(x).ToList()).Cast<Tensor>().ToArray();
        BackendParity.Check(g, [loss, .. grads], new() { [x] = BackendParity.Random(rng, [3, steps, 3]) }, "rnn/lstm/gru", options: options);
    }

    [Fact]
    public void AnLstmCellSteppedByHandEqualsTheLstmLayerWithTheSameWeights()
    {
        var g = new Graph(seed: 2);
        var x = g.Placeholder([-1, 3, 2], "x");
        var lstm = new LSTM(g, "lstm", 2, 4, batchFirst: true);
        var cell = new LSTMCell(g, "cell", 2, 4);
        var (_, (last, _)) = lstm.Forward(x);
        (Tensor H, Tensor C)? state = null;
        for (int t = 0; t < 3; t++) state = cell.Forward(F.Reshape(F.Slice(x, 1, t, 1), [-1, 2]), state);
        using var s = new Session(g, new SessionOptions { UseCompileCache = false });
        var names = new[] { ("weight_ih_l0", "weight_ih"), ("weight_hh_l0", "weight_hh"), ("bias_ih_l0", "bias_ih"), ("bias_hh_l0", "bias_hh") };
        foreach (var (from, to) in names)
            s.SetVariable($"cell.{to}", s.GetVariable($"lstm.{from}"));
        var feed = new Dictionary<Tensor, NDArray> { [x] = BackendParity.Random(new Random(5), [2, 3, 2]) };
        var results = s.Run([last, state!.Value.H], feed);
        var (a, b) = (results[0].As<float>(), results[1].As<float>());
        Assert.Equal(8, a.Length);
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i], 5);
    }

    [Fact]
    public void EveryOpTypeIsLoweredOrSentToTheReferencePath()
    {
        var opTypes = typeof(Op).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(Op)) && !t.IsAbstract);
        foreach (var t in opTypes)
            Assert.True(NodeClasses.Lowered.Contains(t) || NodeClasses.ReferenceOnly.Contains(t), $"{t.Name} is neither lowered by the C# backend nor sent to the reference path");
    }
}
