using GraphNet.Nn;
using static GraphNet.Tests.GradCheck;

namespace GraphNet.Tests;

/// <summary>Every op's gradient rule against central finite differences in double.</summary>
public class GradientTests
{
    private static readonly int[] S23 = [2, 3];

    /// <summary>Every unary entry but stop_gradient, whose gradient is none by design (tested in ActivationTests).</summary>
    public static TheoryData<string> UnaryNames => new(Pointwise.Unary.Where(f => f != Pointwise.StopGradient).Select(f => f.Name));

    [Theory, MemberData(nameof(UnaryNames))]
    public void Unary(string name)
    {
        var fn = Pointwise.Unary.Single(f => f.Name == name);
        // log, sqrt and rsqrt need positive inputs; the others are checked across zero.
        var (lo, hi) = name is "log" or "sqrt" or "rsqrt" ? (0.5, 2.0) : name is "log1p" ? (-0.5, 2.0) : (-2.0, 2.0);
        Check((g, x) => F.Unary(fn, x[0], 0.1), new Input([3, 4], lo, hi));
    }

    /// <summary>Every binary entry of the table but the gradient helpers (tested below against the derivatives they stand for).</summary>
    public static TheoryData<string, int[], int[], double> BinaryCases()
    {
        var data = new TheoryData<string, int[], int[], double>();
        foreach (var f in Pointwise.Binary.Where(f => !f.Name.EndsWith("_grad")).Select(f => f.Name))
            foreach (double p in f == "lerp" ? new[] { 0.3, 0.7 } : [0.0])
            {
                data.Add(f, [2, 3], [2, 3], p);
                data.Add(f, [2, 3], [3], p);
                data.Add(f, [2, 1], [1, 3], p);
            }
        return data;
    }

    [Theory, MemberData(nameof(BinaryCases))]
    public void Binary(string name, int[] a, int[] b, double param)
    {
        var fn = Pointwise.Binary.Single(f => f.Name == name);
        var (lo, hi) = name is "div" or "pow" ? (0.5, 2.0) : (-2.0, 2.0);
        Check((g, x) => F.Binary(fn, x[0], x[1], param), new Input(a, lo, hi), new Input(b, lo, hi));
    }

    [Theory]
    [InlineData("relu_grad")]
    [InlineData("leaky_relu_grad")]
    [InlineData("sigmoid_grad")]
    [InlineData("tanh_grad")]
    [InlineData("softplus_grad")]
    public void GradientHelpersMatchTheDerivativesTheyStandFor(string name)
    {
        // Each helper f(dy, v) must equal dy * d(activation)/dx, checked against finite differences of the activation.
        var helper = Pointwise.Binary.Single(f => f.Name == name);
        var act = name switch
        {
            "relu_grad" => Pointwise.Relu, "leaky_relu_grad" => Pointwise.LeakyRelu, "sigmoid_grad" => Pointwise.Sigmoid,
            "tanh_grad" => Pointwise.Tanh, _ => Pointwise.Softplus,
        };
        bool takesOutput = name is "relu_grad" or "sigmoid_grad" or "tanh_grad";
        foreach (var x in new[] { -1.7, -0.3, 0.4, 2.2 })
        {
            double numeric = (act.Apply(x + 1e-6, 0.1) - act.Apply(x - 1e-6, 0.1)) / 2e-6;
            double got = helper.Apply(1.0, takesOutput ? act.Apply(x, 0.1) : x, 0.1);
            Assert.Equal(numeric, got, 6);
        }
    }

    [Fact]
    public void WhereAndCompare() =>
        Check((g, x) => F.Where(F.Greater(x[0], x[1]), x[0] * x[1], F.Exp(x[1])), new Input(S23, -2, 2), new Input([3], -2, 2));

    [Fact]
    public void Cast() =>
        Check((g, x) => F.Cast(F.Cast(x[0], DType.Float32), DType.Float64) * x[0], 1e-3, 1e-3, 1e-3, new Input(S23));

    [Theory]
    [InlineData("sum"), InlineData("mean"), InlineData("max"), InlineData("min")]
    public void Reductions(string kind)
    {
        var k = Enum.Parse<ReduceKind>(kind, ignoreCase: true);
        Check((g, x) => F.Reduce(k, x[0], [1], false), new Input([2, 3, 4]));
        Check((g, x) => F.Reduce(k, x[0], [0, 2], true), new Input([2, 3, 4]));
        Check((g, x) => F.Reduce(k, x[0], null, false), new Input([2, 3]));
    }

    [Fact]
    public void Softmax() => Check((g, x) => F.Softmax(x[0], 1), new Input([3, 5], -2, 2));

    [Fact]
    public void LogSoftmax() => Check((g, x) => F.LogSoftmax(x[0], -1), new Input([3, 5], -2, 2));

    [Fact]
    public void SoftmaxOverAMiddleAxis() => Check((g, x) => F.Softmax(x[0], 1), new Input([2, 3, 2], -2, 2));

    [Theory]
    [InlineData(false, false), InlineData(false, true), InlineData(true, false), InlineData(true, true)]
    public void MatMul(bool ta, bool tb) =>
        Check((g, x) => F.MatMul(x[0], x[1], ta, tb), new Input(ta ? [4, 3] : [3, 4]), new Input(tb ? [5, 4] : [4, 5]));

    [Fact]
    public void BatchedMatMul() => Check((g, x) => F.MatMul(x[0], x[1], false, true), new Input([2, 3, 4]), new Input([2, 5, 4]));

    [Theory]
    [InlineData(false), InlineData(true)]
    public void MatMulWithSharedRightOperand(bool tb) =>
        Check((g, x) => F.MatMul(x[0], x[1], false, tb), new Input([2, 3, 4]), new Input(tb ? [5, 4] : [4, 5]));

    [Fact]
    public void Transpose() => Check((g, x) => F.Transpose(x[0], 2, 0, 1) * F.Transpose(x[0], 2, 0, 1), new Input([2, 3, 4]));

    [Fact]
    public void ReshapeAndFlatten() => Check((g, x) => F.Flatten(F.Reshape(x[0], 2, 6, 1)) * 2.0, new Input([3, 4]));

    [Fact]
    public void Concat() => Check((g, x) => F.Concat([x[0], F.Square(x[1]), x[0]], 1), new Input([2, 2]), new Input([2, 3]));

    [Fact]
    public void Slice() => Check((g, x) => F.Slice(F.Slice(x[0], 1, 1, 2), 0, 1, 2), new Input([3, 4]));

    [Fact]
    public void Pad() => Check((g, x) => F.Pad(x[0], [1, 0, 2, 1], 0.5), new Input([2, 3]));

    [Fact]
    public void Gather()
    {
        var idx = NDArray.From(new long[] { 2, 0, 2, 1 }, 2, 2);
        Check((g, x) => F.Gather(x[0], x[1], 0), new Input([3, 2]), new Input([2, 2], Value: idx, DType: DType.Int64));
        Check((g, x) => F.Gather(x[0], x[1], 1), new Input([2, 3]), new Input([2, 2], Value: idx, DType: DType.Int64));
    }

    [Fact]
    public void OneHotHasNoGradientButItsProductDoes()
    {
        var idx = NDArray.From(new long[] { 2, 0, 1 }, 3);
        Check((g, x) => F.OneHot(x[1], 4, DType.Float64) * x[0], new Input([3, 4]), new Input([3], Value: idx, DType: DType.Int64));
    }

    [Fact]
    public void BroadcastLike() => Check((g, x) => F.BroadcastLike(x[0], x[1]) * x[1], new Input([1, 3]), new Input([2, 3]));

    [Theory]
    [InlineData(1, 0, 1, 1)]
    [InlineData(2, 1, 1, 1)]
    [InlineData(1, 2, 2, 1)]
    [InlineData(2, 1, 1, 2)]
    public void Conv2d(int stride, int padding, int dilation, int groups) =>
        Check((g, x) => F.Conv2d(x[0], x[1], null, stride, padding, dilation, groups),
            new Input([2, 2, 5, 5]), new Input([4, 2 / groups, 3, 3]));

    [Fact]
    public void Conv2dWithBias() => Check((g, x) => F.Conv2d(x[0], x[1], x[2], padding: 1), new Input([1, 2, 4, 4]), new Input([3, 2, 3, 3]), new Input([3]));

    [Theory]
    [InlineData(1, 0, 0, 1)]
    [InlineData(2, 1, 1, 1)]
    [InlineData(2, 0, 1, 2)]
    public void ConvTranspose2d(int stride, int padding, int outputPadding, int groups) =>
        Check((g, x) => F.ConvTranspose2d(x[0], x[1], x[2], stride, padding, outputPadding, groups),
            new Input([2, 2, 3, 3]), new Input([2, 4 / groups, 3, 3]), new Input([4]));

    /// <summary>
    /// An output padding of at least the stride (allowed below the dilation) adds rows that no input reaches;
    /// the input's gradient keeps the input's shape (it had one row too many, found by the fuzzer).
    /// </summary>
    [Theory]
    [InlineData(1, 2, 1)]
    [InlineData(2, 3, 2)]
    public void ConvTranspose2dWithOutputPaddingBeyondTheStride(int stride, int dilation, int outputPadding) =>
        Check((g, x) => F.ConvTranspose2d(x[0], x[1], null, stride, 0, outputPadding, 1, dilation),
            new Input([1, 2, 3, 4]), new Input([2, 2, 2, 2]));

    /// <summary>A kernel that overhangs the padded input by less than the stride does not fit (C#'s division truncated that to one output).</summary>
    [Theory]
    [InlineData(1, 3, 2, 0)]
    [InlineData(2, 4, 3, 0)]
    public void AWindowLargerThanThePaddedInputIsRejected(int size, int kernel, int stride, int padding)
    {
        var g = new Graph();
        var x = g.Placeholder([1, 1, size, size], "x");
        var w = g.Placeholder([1, 1, kernel, kernel], "w");
        var conv = Assert.ThrowsAny<GraphException>(() => F.Conv2d(x, w, null, stride, padding));
        Assert.Contains("does not fit", conv.Message);
        var pool = Assert.ThrowsAny<GraphException>(() => F.MaxPool2d(x, kernel, stride, padding));
        Assert.Contains("does not fit", pool.Message);
    }

    [Theory]
    [InlineData("max", 2, null, 0)]
    [InlineData("min", 2, null, 0)]
    [InlineData("avg", 2, null, 0)]
    [InlineData("max", 3, 2, 1)]
    [InlineData("avg", 3, 1, 1)]
    public void Pooling(string kind, int k, int? s, int p)
    {
        Func<Tensor, Tensor> pool = kind switch
        {
            "max" => x => F.MaxPool2d(x, k, s, p),
            "min" => x => F.MinPool2d(x, k, s, p),
            _ => x => F.AvgPool2d(x, k, s, p),
        };
        Check((g, x) => pool(x[0]), new Input([2, 2, 5, 5]));
    }

    [Fact]
    public void DropoutInTrainingUsesTheSameMaskBackwards() => Check((g, x) => F.Dropout(x[0], 0.4) * x[0], new Input([4, 8]));

    [Fact]
    public void Losses()
    {
        var labels = NDArray.From(new long[] { 2, 0, 1 }, 3);
        Check((g, x) => F.NllLoss(F.LogSoftmax(x[0], 1), x[1]), new Input([3, 4]), new Input([3], Value: labels, DType: DType.Int64));
        Check((g, x) => F.CrossEntropy(x[0], x[1]), new Input([3, 4]), new Input([3], Value: labels, DType: DType.Int64));
        Check((g, x) => F.MseLoss(x[0], x[1]), new Input([3, 4]), new Input([3, 4]));
        Check((g, x) => F.BinaryCrossEntropyWithLogits(x[0], x[1]), new Input([3, 4], -3, 3), new Input([3, 4], 0, 1));
    }

    [Theory]
    [InlineData("rnn"), InlineData("lstm"), InlineData("gru")]
    public void RecurrentLayers(string kind)
    {
        // Parameters are fed as placeholders so their gradients are checked too.
        Check((g, x) =>
        {
            RecurrentBase layer = kind switch
            {
                "rnn" => new RNN(g, "rnn", 3, 4, batchFirst: true),
                "lstm" => new LSTM(g, "lstm", 3, 4, batchFirst: true),
                _ => new GRU(g, "gru", 3, 4, batchFirst: true),
            };
            var (outSeq, last) = ForwardWith(layer, x);
            return F.Concat([F.Reshape(outSeq, 2, -1), F.Reshape(last, 2, -1)], 1);
        }, RecurrentInputs(kind));
    }

    [Theory]
    [InlineData("lstm"), InlineData("gru"), InlineData("rnn")]
    public void StackedBidirectionalRecurrentLayers(string kind)
    {
        // Two layers, two directions, time-major, initial states fed: the gradients of the input, of
        // the states and of the top layer's reverse-direction weights (fed in place of its parameters).
        int gates = kind switch { "rnn" => 1, "lstm" => 4, _ => 3 };
        Check((g, x) =>
        {
            RecurrentBase layer = kind switch
            {
                "rnn" => new RNN(g, "rnn", 2, 3, numLayers: 2, nonlinearity: "relu", bidirectional: true, dtype: DType.Float64),
                "lstm" => new LSTM(g, "lstm", 2, 3, numLayers: 2, bidirectional: true, dtype: DType.Float64),
                _ => new GRU(g, "gru", 2, 3, numLayers: 2, bidirectional: true, dtype: DType.Float64),
            };
            layer.OverrideParameters(x[3], x[4], x[5], x[6], layer: 1, direction: 1);
            var (output, state) = layer switch
            {
                LSTM lstm => lstm.Forward(x[0], (x[1], x[2])) is var (o, (h, c)) ? (o, F.Concat([h, c], 0)) : default,
                GRU gru => gru.Forward(x[0], x[1]),
                _ => ((RNN)layer).Forward(x[0], x[1]),
            };
            return F.Concat([F.Reshape(output, 1, -1), F.Reshape(state, 1, -1)], 1);
        }, new Input([3, 2, 2]), new Input([4, 2, 3]), new Input([4, 2, 3]), new Input([gates * 3, 6]), new Input([gates * 3, 3]),
            new Input([gates * 3]), new Input([gates * 3]));
    }

    [Fact]
    public void ScaledDotProductAttentionWithACausalAndAnAddedMask() =>
        Check((g, x) => F.ScaledDotProductAttention(x[0], x[1], x[2], x[3], isCausal: true),
            new Input([2, 3, 4]), new Input([2, 3, 4]), new Input([2, 3, 2]), new Input([3, 3]));

    [Fact]
    public void MultiheadAttentionWithAKeyPaddingMask()
    {
        // Sample 1 ignores key 2; the weights are returned too, so their gradient flows as well.
        var padding = NDArray.From(new[] { false, false, false, false, false, true, false, false }, 2, 4);
        Check((g, x) =>
        {
            var mha = new Nn.MultiheadAttention(g, "mha", 4, 2, dtype: DType.Float64);
            var (o, w) = mha.Forward(x[0], x[1], x[2], g.Constant(padding));
            return F.Concat([F.Reshape(o, 1, -1), F.Reshape(w!, 1, -1)], 1);
        }, new Input([3, 2, 4]), new Input([4, 2, 4]), new Input([4, 2, 4]));
    }

    private static Input[] RecurrentInputs(string kind)
    {
        int gates = kind switch { "rnn" => 1, "lstm" => 4, _ => 3 };
        return [new Input([2, 3, 3]), new Input([gates * 4, 3]), new Input([gates * 4, 4]), new Input([gates * 4]), new Input([gates * 4]),
            new Input([1, 2, 4]), new Input([1, 2, 4])];
    }

    /// <summary>Runs a recurrent layer with its weights replaced by the given tensors (a functional call); h0 (and c0) fed.</summary>
    private static (Tensor Output, Tensor Last) ForwardWith(RecurrentBase layer, Tensor[] x)
    {
        layer.OverrideParameters(x[1], x[2], x[3], x[4]);
        switch (layer)
        {
            case LSTM lstm:
                var (o, (h, c)) = lstm.Forward(x[0], (x[5], x[6]));
                return (o, F.Concat([h, c], 2));
            case GRU gru: return gru.Forward(x[0], x[5]);
            default: return ((RNN)layer).Forward(x[0], x[5]);
        }
    }
}
