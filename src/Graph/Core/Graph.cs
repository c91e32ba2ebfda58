namespace GraphNet;

/// <summary>
/// An append-only list of nodes in topological order, with name scopes and variables.
/// Build it with the methods here, <see cref="F"/> and the layers in <see cref="Nn"/>.
/// </summary>
public sealed class Graph
{
    private readonly List<Node> nodes = [];
    private readonly Dictionary<string, int> usedNames = [];
    private readonly List<string> scopes = [];
    private readonly List<Node> variables = [];
    private readonly Dictionary<(double, DType), Tensor> scalars = [];
    private Tensor? training;
    private int nextId;

    public Graph(int seed = 0) { Seed = seed; }

    /// <summary>
    /// A scan's body: a graph of its own inside <paramref name="outer"/>. A tensor of an enclosing
    /// graph used in it is captured (it becomes a placeholder here, fed the outer value), and an op
    /// given tensors of both is added here, so model code builds bodies with the usual API.
    /// </summary>
    internal static Graph BodyOf(Graph outer, string name) => new(outer.Seed) { Outer = outer, Name = outer.Name + "/" + name };

    /// <summary>The graph a scan body is built inside, or null for a top-level graph.</summary>
    public Graph? Outer { get; private init; }
    private readonly Dictionary<Tensor, Tensor> captureOf = [];
    private readonly List<(Tensor Outer, Tensor Inner)> captures = [];

    /// <summary>The tensors of the outer graph this body captured, with their placeholders here, in order.</summary>
    internal IReadOnlyList<(Tensor Outer, Tensor Inner)> Captures => captures;

    /// <summary>Whether this graph is a body built inside <paramref name="g"/> (at any depth).</summary>
    internal bool IsInside(Graph g)
    {
        for (var o = Outer; o is not null; o = o.Outer) if (o == g) return true;
        return false;
    }

    /// <summary>The placeholder standing for a tensor of an enclosing graph (made on first use).</summary>
    internal Tensor Capture(Tensor t)
    {
        if (t.Graph == this) return t;
        if (captureOf.TryGetValue(t, out var inner)) return inner;
        if (!IsInside(t.Graph)) throw new GraphException($"'{t.Name}' belongs to a graph this scan body is not built inside");
        var fromOuter = t.Graph == Outer ? t : Outer!.Capture(t);
        inner = Append(new PlaceholderOp(t.Type), [], "capture/" + t.Name.Replace(':', '_'), SourceLocation.Unknown, null).Outputs[0];
        captureOf[t] = inner;
        captures.Add((fromOuter, inner));
        return inner;
    }

    /// <summary>Seed of the counter-based generator for initializers and dropout.</summary>
    public int Seed { get; }
    public IReadOnlyList<Node> Nodes => nodes;
    public IReadOnlyList<Node> Variables => variables;

    /// <summary>Set while a gradient rule runs, so backward nodes point to their forward node.</summary>
    internal Node? CurrentForward { get; set; }

    /// <summary>Eager mode evaluates each node as it is added (see the runtime's eager context).</summary>
    public IEagerBackend? Eager { get; set; }

    internal NDArray? EagerValue(Tensor t) => Eager?.ValueOf(t);

    /// <summary>Opens a name scope: nodes made inside are named "scope/name".</summary>
    public IDisposable NameScope(string name)
    {
        scopes.Add(name);
        return new ScopeExit(() => scopes.RemoveAt(scopes.Count - 1));
    }

    private sealed class ScopeExit(Action exit) : IDisposable
    {
        private bool done;
        public void Dispose() { if (!done) { done = true; exit(); } }
    }

    public string CurrentScope => string.Join("/", scopes);

    private string UniqueName(string baseName)
    {
        string full = scopes.Count == 0 ? baseName : CurrentScope + "/" + baseName;
        if (Eager is not null) return full; // an eager tape is released every step; its names need not be unique
        if (!usedNames.TryGetValue(full, out int count)) { usedNames[full] = 1; return full; }
        string candidate;
        do { candidate = $"{full}_{count++}"; } while (usedNames.ContainsKey(candidate));
        usedNames[full] = count;
        usedNames[candidate] = 1;
        return candidate;
    }

    /// <summary>Adds one op application; checks the inputs and infers the output types.</summary>
    public Node AddNode(Op op, IReadOnlyList<Tensor> inputs, string? name = null) =>
        // Eager errors surface at the call, so the exception's own stack trace names the line.
        Append(op, inputs, name, Eager is null || Eager.CaptureSource ? SourceLocation.Capture() : SourceLocation.Unknown, CurrentForward);

    /// <summary>
    /// Adds a node that keeps the provenance of another (compiler passes copy nodes into new
    /// graphs this way, so dumps and errors still point at the user's line).
    /// </summary>
    public Node AddNodeLike(Op op, IReadOnlyList<Tensor> inputs, Node like) =>
        Append(op, inputs, like.Name, like.Source, like.ForwardOf);

    /// <summary>Adds a node read from a graph file, keeping its name, line and backward link.</summary>
    internal Node AddLoaded(Op op, IReadOnlyList<Tensor> inputs, string name, SourceLocation source, Node? forwardOf)
    {
        var node = Append(op, inputs, name, source, forwardOf);
        if (op is PlaceholderOp { Default: { DType: DType.Bool } } && name == "training") training = node.Outputs[0];
        return node;
    }

    /// <summary>Writes the whole graph (initializers and constants included) as versioned JSON.</summary>
    public void Save(string path) => GraphFile.Save(this, path);

    /// <summary>Reads a graph written by <see cref="Save"/>.</summary>
    public static Graph Load(string path) => GraphFile.Load(path);

    /// <summary>
    /// Adds a node of a compiled plan from the compile cache, as it was: its stored output types
    /// (the compiler's verifier infers them again when checks are on), no name scope, no capture.
    /// </summary>
    internal Node AddRestored(Op op, Tensor[] inputs, TensorType[] types, string name, SourceLocation source, Node? forwardOf)
    {
        foreach (var t in inputs)
            if (t.Graph != this) throw new GraphException($"restored node '{name}' reads '{t.Name}' of another graph");
        var node = new Node(this, nextId++, op, inputs, types, name, source, forwardOf);
        nodes.Add(node);
        if (op is VariableOp) variables.Add(node);
        return node;
    }

    private Node Append(Op op, IReadOnlyList<Tensor> inputs, string? name, SourceLocation source, Node? forwardOf)
    {
        // An op on tensors of a scan body and of a graph around it belongs to the body.
        var home = this;
        foreach (var t in inputs) if (t.Graph != home && t.Graph.IsInside(home)) home = t.Graph;
        if (home != this) return home.Append(op, inputs, name, source, forwardOf);
        if (inputs.Any(t => t.Graph != this))
        {
            var local = inputs.ToArray();
            for (int i = 0; i < local.Length; i++)
            {
                if (local[i].Graph == this) continue;
                if (!IsInside(local[i].Graph))
                    throw new GraphException($"{op.Name} (at {source}): input '{local[i].Name}' belongs to another Graph; " +
                        "tensors of two graphs cannot be mixed");
                local[i] = Capture(local[i]);
            }
            inputs = local;
        }
        TensorType[] types;
        try { types = op.InferTypes(inputs.Select(t => t.Type).ToArray()); }
        catch (ShapeException e)
        {
            var what = string.Join(", ", inputs.Select(t => $"'{t.Name}' {t.Type}"));
            // Eager mode records no line per op; the call that failed is still on the stack.
            var at = source == SourceLocation.Unknown ? SourceLocation.Capture() : source;
            throw new GraphException($"{e.Message}\n  in op {op.Name} '{(name ?? op.Name)}' at {at}\n  inputs: {what}", e);
        }
        var node = new Node(this, nextId++, op, inputs.ToArray(), types, UniqueName(name ?? op.Name), source, forwardOf);
        nodes.Add(node);
        if (op is VariableOp) variables.Add(node);
        Eager?.OnNodeAdded(node);
        return node;
    }

    internal Tensor Add1(Op op, IReadOnlyList<Tensor> inputs, string? name = null) => AddNode(op, inputs, name).Outputs[0];

    /// <summary>A value fed at run time. Use <see cref="Shape.Batch"/> (-1) for the batch dimension.</summary>
    public Tensor Placeholder(DType dtype, int[] shape, string name = "placeholder") =>
        Add1(new PlaceholderOp(new TensorType(dtype, FedShape(shape, name))), [], name);

    public Tensor Placeholder(int[] shape, string name = "placeholder") => Placeholder(DType.Float32, shape, name);

    /// <summary>A placeholder that takes <paramref name="value"/> when not fed.</summary>
    public Tensor PlaceholderWithDefault(NDArray value, int[] shape, string name) =>
        Add1(new PlaceholderOp(new TensorType(value.DType, FedShape(shape, name)), value), [], name);

    private static Shape FedShape(int[] shape, string name) => shape.All(d => d >= -1) ? new Shape(shape)
        : throw new GraphException($"placeholder '{name}': invalid dimension in shape [{string.Join(",", shape)}]; " +
            "sizes are >= 0, and -1 (Shape.Batch) marks the batch");

    /// <summary>
    /// A trainable (or not) variable whose value lives in the session. <paramref name="name"/> is
    /// used as is (no scope prefix), PyTorch style: "conv1.weight".
    /// </summary>
    public Tensor Variable(string name, int[] shape, Initializer? initializer, DType dtype = DType.Float32, bool trainable = true)
    {
        if (Outer is not null)
            throw new GraphException($"variable '{name}' is made inside a scan body (at {SourceLocation.Capture()}); " +
                "make layers and variables outside F.Scan and use them in the body");
        // The same rule in both modes: two layers of one name would silently share weights.
        if (HasVariable(name))
            throw new GraphException($"a variable named '{name}' already exists in this graph (at {SourceLocation.Capture()}); " +
                "give each layer a unique name" +
                (Eager is not null ? " (in eager mode, make layers once, outside the step)" : ""));
        var op = new VariableOp(name, new TensorType(dtype, new Shape(shape)), initializer, trainable);
        return Add1(op, [], name);
    }

    public Tensor Constant(NDArray value, string name = "const") => Add1(new ConstantOp(value), [], name);

    /// <summary>A scalar constant; scalars are shared so the graph stays small.</summary>
    /// <summary>
    /// A scalar the session feeds itself on every run with the current <paramref name="value"/>
    /// (an optimizer's learning rate, which a scheduler changes between steps): a new value needs
    /// no recompilation, as it would were it a constant. Eager, it is the current value as a constant.
    /// </summary>
    public Tensor HostScalar(string name, Func<double> value, DType dtype = DType.Float64)
    {
        if (Eager is not null) return Scalar(value(), dtype);
        // The value now as the default: a graph saved to a file and loaded again (which cannot keep
        // the function) runs with it.
        var t = PlaceholderWithDefault(NDArray.Scalar(dtype, value()), [], name);
        hostScalars.Add((t, value));
        return t;
    }

    /// <summary>
    /// State updates a layer makes in its forward pass (BatchNorm's running statistics): <see
    /// cref="Train.Optimizer.Minimize"/> runs every one whose inputs its loss depends on, so they
    /// cannot be left out of the train op (TF1's UPDATE_OPS trap). Eager, they run as they are made.
    /// </summary>
    public IReadOnlyList<Tensor> UpdateOps => updateOps;
    private readonly List<Tensor> updateOps = [];
    private readonly Dictionary<Tensor, (Tensor Variable, Func<Tensor, Tensor> Next)> updateRules = [];

    /// <summary>
    /// Registers a forward-pass state update, <paramref name="variable"/> ← next(variable) (see
    /// <see cref="UpdateOps"/>), and returns its assignment. A layer run twice in one training step
    /// (a GAN's discriminator on real and generated batches) moves its state twice, as PyTorch's does:
    /// the train op chains the rules, each from the value the one before gave.
    /// </summary>
    public Tensor AddUpdate(Tensor variable, Func<Tensor, Tensor> next)
    {
        var update = F.Assign(variable, next(variable));
        if (Eager is null)
        {
            updateOps.Add(update);
            updateRules[update] = (variable, next);
        }
        return update;
    }

    /// <summary>The variable and rule of an update made by <see cref="AddUpdate"/>.</summary>
    public (Tensor Variable, Func<Tensor, Tensor> Next) UpdateRule(Tensor update) => updateRules[update];

    /// <summary>The <see cref="HostScalar"/>s of this graph, with where their values come from.</summary>
    public IReadOnlyList<(Tensor Placeholder, Func<double> Value)> HostScalars => hostScalars;
    private readonly List<(Tensor Placeholder, Func<double> Value)> hostScalars = [];

    public Tensor Scalar(double value, DType dtype = DType.Float32)
    {
        if (scalars.TryGetValue((value, dtype), out var t) && CurrentForward is null && Eager is null) return t;
        t = Constant(NDArray.Scalar(dtype, value), "scalar");
        if (CurrentForward is null && Eager is null) scalars[(value, dtype)] = t;
        return t;
    }

    /// <summary>
    /// The graph's training switch: a bool scalar that is true unless fed false. Dropout reads it;
    /// feed <c>false</c> for evaluation, like PyTorch's <c>model.eval()</c>.
    /// </summary>
    public Tensor Training => training ??= Outer is { } outer ? Capture(outer.Training)
        : PlaceholderWithDefault(NDArray.From([true]), [], "training");

    /// <summary>Whether the training switch exists yet (reading <see cref="Training"/> creates it).</summary>
    public bool HasTrainingSwitch => training is not null;

    public IEnumerable<Tensor> TrainableVariables => variables.Where(v => ((VariableOp)v.Op).Trainable).Select(v => v.Outputs[0]);

    /// <summary>Whether a variable of this name exists.</summary>
    public bool HasVariable(string name) => variables.Any(v => ((VariableOp)v.Op).VarName == name);

    /// <summary>Finds a variable by its name, for checkpoints and tests.</summary>
    public Tensor GetVariable(string name) =>
        variables.FirstOrDefault(v => ((VariableOp)v.Op).VarName == name)?.Outputs[0]
        ?? throw new GraphException($"no variable named '{name}'; the graph has: {string.Join(", ", variables.Select(v => ((VariableOp)v.Op).VarName))}");

    /// <summary>The deterministic text form, one node a line.</summary>
    public string ToText(bool withSource = false) => GraphText.Format(this, withSource);

    /// <summary>Graphviz DOT: forward and backward nodes coloured apart, tensor types on edges, name scopes as clusters.</summary>
    public string ToDot(string? title = null) => GraphDot.Format(this, title: title);

    /// <summary>Draws the graph as SVG with Graphviz's dot (which must be installed).</summary>
    public void SaveSvg(string path) => GraphDot.Render(ToDot(), path);

    /// <summary>Draws the graph as PNG with Graphviz's dot (which must be installed).</summary>
    public void SavePng(string path) => GraphDot.Render(ToDot(), path);

    /// <summary>A name for dumps and reports.</summary>
    public string Name { get; set; } = "graph";

    /// <summary>The id the next node will get. Ids grow in creation order (a topological order).</summary>
    public int NextId => nextId;

    /// <summary>
    /// Eager mode's tape release: drops every node made at or after <paramref name="mark"/> except
    /// variables and placeholders, which outlive a step. Returns the dropped nodes.
    /// </summary>
    public List<Node> ReleaseAfter(int mark)
    {
        var dropped = new List<Node>();
        nodes.RemoveAll(n =>
        {
            bool drop = n.Id >= mark && n.Op is not (VariableOp or PlaceholderOp);
            if (drop) dropped.Add(n);
            return drop;
        });
        return dropped;
    }

    public override string ToString() => $"Graph({nodes.Count} nodes, {variables.Count} variables)";
}

/// <summary>What eager mode plugs into a graph: evaluate each node as it is added.</summary>
public interface IEagerBackend
{
    /// <summary>Record the user's line for each op (costs a stack walk per op; profiling wants it).</summary>
    bool CaptureSource { get; }
    void OnNodeAdded(Node node);
    NDArray? ValueOf(Tensor t);
}
