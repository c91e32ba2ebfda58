namespace GraphNet;

/// <summary>
/// The functional API (like torch.nn.functional / tf.*): each call adds a node to the graph of
/// its inputs and returns its output.
/// </summary>
public static partial class F
{
    public static Tensor Unary(UnaryFn fn, Tensor x, double param = 0) => x.Graph.Add1(new UnaryOp(fn, param), [x]);
    public static Tensor Binary(BinaryFn fn, Tensor a, Tensor b, double param = 0) => a.Graph.Add1(new BinaryOp(fn, param), [a, b]);

    public static Tensor Add(Tensor a, Tensor b) => Binary(Pointwise.Add, a, b);
    public static Tensor Sub(Tensor a, Tensor b) => Binary(Pointwise.Sub, a, b);
    public static Tensor Mul(Tensor a, Tensor b) => Binary(Pointwise.Mul, a, b);
    public static Tensor Div(Tensor a, Tensor b) => Binary(Pointwise.Div, a, b);
    public static Tensor Pow(Tensor a, Tensor b) => Binary(Pointwise.Pow, a, b);
    public static Tensor Pow(Tensor a, double b) => Binary(Pointwise.Pow, a, a.Graph.Scalar(b, a.DType));
    public static Tensor Maximum(Tensor a, Tensor b) => Binary(Pointwise.Maximum, a, b);
    public static Tensor Minimum(Tensor a, Tensor b) => Binary(Pointwise.Minimum, a, b);
    public static Tensor Maximum(Tensor a, double b) => Binary(Pointwise.Maximum, a, a.Graph.Scalar(b, a.DType));
    public static Tensor Minimum(Tensor a, double b) => Binary(Pointwise.Minimum, a, a.Graph.Scalar(b, a.DType));
    /// <summary>a + weight·(b − a), as torch.lerp with a scalar weight.</summary>
    public static Tensor Lerp(Tensor a, Tensor b, double weight) => Binary(Pointwise.Lerp, a, b, weight);

    public static Tensor Neg(Tensor x) => Unary(Pointwise.Neg, x);
    public static Tensor Exp(Tensor x) => Unary(Pointwise.Exp, x);
    public static Tensor Log(Tensor x) => Unary(Pointwise.Log, x);
    public static Tensor Sqrt(Tensor x) => Unary(Pointwise.Sqrt, x);
    public static Tensor Rsqrt(Tensor x) => Unary(Pointwise.Rsqrt, x);
    public static Tensor Abs(Tensor x) => Unary(Pointwise.Abs, x);
    public static Tensor Sign(Tensor x) => Unary(Pointwise.Sign, x);
    public static Tensor Square(Tensor x) => Unary(Pointwise.Square, x);
    public static Tensor Sigmoid(Tensor x) => Unary(Pointwise.Sigmoid, x);
    public static Tensor Tanh(Tensor x) => Unary(Pointwise.Tanh, x);
    public static Tensor Relu(Tensor x) => Unary(Pointwise.Relu, x);
    public static Tensor LeakyRelu(Tensor x, double negativeSlope = 0.01) => Unary(Pointwise.LeakyRelu, x, negativeSlope);
    public static Tensor Softplus(Tensor x) => Unary(Pointwise.Softplus, x);
    public static Tensor Log1p(Tensor x) => Unary(Pointwise.Log1p, x);
    public static Tensor Expm1(Tensor x) => Unary(Pointwise.Expm1, x);
    public static Tensor Erf(Tensor x) => Unary(Pointwise.Erf, x);
    public static Tensor Elu(Tensor x, double alpha = 1.0) => Unary(Pointwise.Elu, x, alpha);
    public static Tensor Selu(Tensor x) => Unary(Pointwise.Selu, x);
    /// <summary>GELU as torch.nn.functional.gelu: exact (x·Φ(x)) by default, or approximate: "tanh".</summary>
    public static Tensor Gelu(Tensor x, string approximate = "none") => approximate switch
    {
        "none" => Unary(Pointwise.Gelu, x),
        "tanh" => Unary(Pointwise.GeluTanh, x),
        _ => throw new GraphException($"gelu: approximate must be 'none' or 'tanh', not '{approximate}'"),
    };
    public static Tensor Silu(Tensor x) => Unary(Pointwise.Silu, x);
    public static Tensor Mish(Tensor x) => Unary(Pointwise.Mish, x);
    public static Tensor Softsign(Tensor x) => Unary(Pointwise.Softsign, x);
    public static Tensor Hardsigmoid(Tensor x) => Unary(Pointwise.Hardsigmoid, x);
    public static Tensor Hardswish(Tensor x) => Unary(Pointwise.Hardswish, x);
    /// <summary>The value with no gradient through it (TF's stop_gradient, PyTorch's detach()).</summary>
    public static Tensor StopGradient(Tensor x) => Unary(Pointwise.StopGradient, x);

    /// <summary>
    /// x limited to [min, max] (either bound may be left out), as torch.clamp: NaN stays NaN; the
    /// gradient flows where min ≤ x ≤ max.
    /// </summary>
    public static Tensor Clamp(Tensor x, double? min = null, double? max = null)
    {
        if (min is null && max is null) throw new GraphException($"clamp of '{x.Name}': give min, max or both");
        if (min > max) throw new GraphException($"clamp of '{x.Name}': min {min} is above max {max}");
        var y = min is { } lo ? Maximum(x, lo) : x;
        return max is { } hi ? Minimum(y, hi) : y;
    }
    /// <summary>Hardtanh: clamp to [minVal, maxVal].</summary>
    public static Tensor Hardtanh(Tensor x, double minVal = -1, double maxVal = 1) => Clamp(x, minVal, maxVal);
    /// <summary>ReLU6: clamp to [0, 6].</summary>
    public static Tensor Relu6(Tensor x) => Clamp(x, 0, 6);
    /// <summary>
    /// PReLU: x where x ≥ 0, else weight·x, with one weight or one per channel (axis 1), as
    /// torch.nn.functional.prelu.
    /// </summary>
    public static Tensor Prelu(Tensor x, Tensor weight)
    {
        if (weight.Rank != 1 || (weight.Shape[0] != 1 && (x.Rank < 2 || weight.Shape[0] != x.Shape[1])))
            throw new GraphException($"prelu: weight {weight.Shape} must hold 1 value or one per channel of {x.Shape} (axis 1)");
        var w = weight.Shape[0] == 1 || x.Rank == 2 ? weight
            : Reshape(weight, [weight.Shape[0], .. Enumerable.Repeat(1, x.Rank - 2)]);
        return Where(GreaterEqual(x, 0.0), x, w * x);
    }
    /// <summary>GLU: the first half of x along <paramref name="dim"/> times the sigmoid of the second, as torch.nn.functional.glu.</summary>
    public static Tensor Glu(Tensor x, int dim = -1)
    {
        int d = dim < 0 ? dim + x.Rank : dim;
        if (d < 0 || d >= x.Rank || x.Shape[d] < 0 || x.Shape[d] % 2 != 0)
            throw new GraphException($"glu: dimension {dim} of {x.Shape} must exist and have an even size");
        int half = x.Shape[d] / 2;
        return Slice(x, d, 0, half) * Sigmoid(Slice(x, d, half, half));
    }

    public static Tensor Compare(CompareKind kind, Tensor a, Tensor b) => a.Graph.Add1(new CompareOp(kind), [a, b]);
    public static Tensor Equal(Tensor a, Tensor b) => Compare(CompareKind.Equal, a, b);
    public static Tensor NotEqual(Tensor a, Tensor b) => Compare(CompareKind.NotEqual, a, b);
    public static Tensor Less(Tensor a, Tensor b) => Compare(CompareKind.Less, a, b);
    public static Tensor LessEqual(Tensor a, Tensor b) => Compare(CompareKind.LessEqual, a, b);
    public static Tensor Greater(Tensor a, Tensor b) => Compare(CompareKind.Greater, a, b);
    public static Tensor GreaterEqual(Tensor a, Tensor b) => Compare(CompareKind.GreaterEqual, a, b);
    public static Tensor Equal(Tensor a, double b) => Equal(a, a.Graph.Scalar(b, a.DType));
    public static Tensor NotEqual(Tensor a, double b) => NotEqual(a, a.Graph.Scalar(b, a.DType));
    public static Tensor Less(Tensor a, double b) => Less(a, a.Graph.Scalar(b, a.DType));
    public static Tensor LessEqual(Tensor a, double b) => LessEqual(a, a.Graph.Scalar(b, a.DType));
    public static Tensor Greater(Tensor a, double b) => Greater(a, a.Graph.Scalar(b, a.DType));
    public static Tensor GreaterEqual(Tensor a, double b) => GreaterEqual(a, a.Graph.Scalar(b, a.DType));
    public static Tensor Where(Tensor cond, Tensor a, Tensor b) => a.Graph.Add1(new WhereOp(), [cond, a, b]);
    public static Tensor Cast(Tensor x, DType to) => x.DType == to ? x : x.Graph.Add1(new CastOp(to), [x]);

    public static Tensor ZerosLike(Tensor x) => BroadcastLike(x.Graph.Scalar(0, x.DType), x);
    public static Tensor OnesLike(Tensor x) => BroadcastLike(x.Graph.Scalar(1, x.DType), x);
    public static Tensor BroadcastLike(Tensor x, Tensor like) => x.Shape == like.Shape ? x : x.Graph.Add1(new BroadcastLikeOp(), [x, like]);
    public static Tensor CountOf(Tensor x, int[] axes) => x.Graph.Add1(new CountOfOp(axes), [x]);

    public static Tensor Reduce(ReduceKind kind, Tensor x, int[]? axes, bool keepDims) => x.Graph.Add1(new ReduceOp(kind, axes ?? [], keepDims), [x]);
    public static Tensor Sum(Tensor x, int[]? axes = null, bool keepDims = false) => Reduce(ReduceKind.Sum, x, axes, keepDims);
    public static Tensor Mean(Tensor x, int[]? axes = null, bool keepDims = false) => Reduce(ReduceKind.Mean, x, axes, keepDims);
    public static Tensor Max(Tensor x, int[]? axes = null, bool keepDims = false) => Reduce(ReduceKind.Max, x, axes, keepDims);
    public static Tensor Min(Tensor x, int[]? axes = null, bool keepDims = false) => Reduce(ReduceKind.Min, x, axes, keepDims);
    public static Tensor ArgMax(Tensor x, int axis = -1) => x.Graph.Add1(new ArgMaxOp(axis), [x]);

    public static Tensor Softmax(Tensor x, int axis = -1) => x.Graph.Add1(new SoftmaxOp(axis, false), [x]);
    public static Tensor LogSoftmax(Tensor x, int axis = -1) => x.Graph.Add1(new SoftmaxOp(axis, true), [x]);

    /// <summary>
    /// Sums a broadcast gradient back to <paramref name="shape"/>: over leading axes it lacks and
    /// over axes where it has size 1. Decided statically, so it works with a symbolic batch.
    /// </summary>
    public static Tensor SumTo(Tensor g, Shape shape)
    {
        if (g.Shape == shape) return g;
        int lead = g.Rank - shape.Rank;
        var axes = new List<int>();
        for (int i = 0; i < g.Rank; i++)
            if (i < lead || (shape[i - lead] == 1 && g.Shape[i] != 1)) axes.Add(i);
        var s = axes.Count > 0 ? Sum(g, axes.ToArray(), keepDims: true) : g;
        return s.Shape == shape ? s : Reshape(s, ReshapeTarget(shape));
    }

    /// <summary>A reshape target for a shape: its symbolic batch dimension becomes -1.</summary>
    public static int[] ReshapeTarget(Shape s) => s.Dims.Select(d => d < 0 ? -1 : d).ToArray();
}

public static partial class F
{
    /// <summary>Evaluates all inputs; the value is the first one's. Used to attach side effects (assignments).</summary>
    public static Tensor Group(params Tensor[] xs) => xs.Length == 1 ? xs[0] : xs[0].Graph.Add1(new GroupOp(), xs, "group");

    /// <summary>
    /// Writes a new value into a variable when the run ends (TF1's tf.assign); the result is the
    /// new value. Fetch it, or group it into a fetched op, for the write to happen.
    /// </summary>
    public static Tensor Assign(Tensor variable, Tensor value)
    {
        if (variable.Node.Op is not VariableOp v)
            throw new GraphException($"assign: '{variable.Name}' is a {variable.Node.Op.Name}, not a variable (made at {variable.Node.Source})");
        return variable.Graph.Add1(new AssignOp(), [variable, value], "assign_" + v.VarName.Replace('.', '_'));
    }
}
