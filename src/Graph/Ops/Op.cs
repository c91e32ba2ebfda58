namespace GraphNet;

/// <summary>
/// One record per kind of operation. Each op states, side by side, its shape/dtype rule,
/// its gradient rule (built with the same API users use) and its reference evaluation.
/// </summary>
public abstract record Op
{
    /// <summary>The op's name in the text form, e.g. "conv2d".</summary>
    public abstract string Name { get; }

    /// <summary>Attributes in a fixed order, for the text form and content hashes.</summary>
    public virtual IEnumerable<(string Name, object? Value)> Attributes() => [];

    /// <summary>Output types from input types; throws <see cref="ShapeException"/> on bad input.</summary>
    public abstract TensorType[] InferTypes(TensorType[] inputs);

    /// <summary>Gradients with respect to each input (null where none flows).</summary>
    public virtual Tensor?[] Gradient(GradContext g) =>
        throw new GraphException($"{Name} has no gradient rule (node '{g.Node.Name}' at {g.Node.Source})");

    /// <summary>Reference evaluation: plain loops, generic over float and double.</summary>
    public abstract NDArray[] Evaluate(EvalContext ctx, NDArray[] inputs);

    /// <summary>True for ops with state or effects (variables, assignments): never folded or merged.</summary>
    public virtual bool IsStateful => false;

    protected static ShapeException Error(string message) => new(message);

    protected static void ExpectInputs(string op, TensorType[] inputs, int n)
    {
        if (inputs.Length != n) throw new ShapeException($"{op} takes {n} input(s), got {inputs.Length}");
    }

    protected static void ExpectFloat(string op, TensorType t, string what = "input")
    {
        if (!t.DType.IsFloat()) throw new ShapeException($"{op}: {what} must be float32 or float64, got {t.DType.ShortName()}");
    }

    protected static void ExpectSameDType(string op, TensorType a, TensorType b)
    {
        if (a.DType != b.DType) throw new ShapeException($"{op}: dtypes differ ({a.DType.ShortName()} vs {b.DType.ShortName()}); cast one with F.Cast");
    }
}

/// <summary>What a gradient rule sees: the forward node, its inputs and outputs, and the outputs' gradients.</summary>
public sealed class GradContext(Node node, Tensor?[] dys, bool[]? needs = null)
{
    public GradContext(Node node, Tensor dy, bool[]? needs = null) : this(node, [dy], needs) { }

    public Node Node { get; } = node;
    public Graph Graph => Node.Graph;
    public IReadOnlyList<Tensor> X => Node.Inputs;
    public Tensor Y => Node.Outputs[0];
    /// <summary>The gradient of the (first) output.</summary>
    public Tensor Dy => dys[0] ?? throw new InvalidOperationException($"no gradient flows into the first output of {Node.Describe()}");
    /// <summary>The gradient of each output; null where none flows (a node of several outputs).</summary>
    public IReadOnlyList<Tensor?> Dys { get; } = dys;

    /// <summary>
    /// Whether input i's gradient is wanted (PyTorch's needs_input_grad): a rule may skip the
    /// others. Deferred mode would prune them anyway, but eager mode runs every op it is given
    /// (an image's gradient through the first convolution, say).
    /// </summary>
    public bool Needs(int i) => needs is null || needs[i];
}

/// <summary>What a reference evaluation may need besides its inputs.</summary>
public sealed class EvalContext
{
    /// <summary>Counts session runs; keys dropout masks so each step draws a fresh mask.</summary>
    public long RunCounter { get; init; }

    /// <summary>The graph's seed, combined with each op's own seed.</summary>
    public int GraphSeed { get; init; }
}
