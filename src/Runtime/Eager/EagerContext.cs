namespace GraphNet.Runtime;

/// <summary>
/// Eager mode: every node added to the graph is evaluated at once (PyTorch style) through the
/// runtime's per-op kernels (<see cref="EagerKernels"/>), and its value can be read with
/// <see cref="Tensor.Value"/>. The nodes recorded on the way are the tape; <see cref="F.Gradients"/>
/// on it gives backward with the same gradient rules as deferred mode, and an optimizer's
/// Minimize applies its update immediately. Wrap each training step in <see cref="Step"/>: the
/// step's tape and values are released when it ends (their arrays are reused by the next steps,
/// so copy a value you want to keep), and the dropout counter advances (one step = one
/// Session.Run in deferred mode).
/// </summary>
public sealed class EagerContext : IEagerBackend, IDisposable
{
    private readonly Dictionary<Tensor, NDArray> values = [];
    private readonly Dictionary<Node, NDArray> placeholderValues = [];
    private readonly BufferPool pool = new();
    /// <summary>Variable arrays an assignment replaced this step: free once the step ends, like its other values.</summary>
    private readonly List<Array> replaced = [];
    private EvalContext eval;

    public EagerContext(Graph graph, VariableStore? variables = null)
    {
        if (graph.Eager is not null) throw new InvalidOperationException("the graph already has an eager context");
        if (graph.Nodes.Any(n => n.Op is not (VariableOp or PlaceholderOp)))
            throw new InvalidOperationException("eager mode needs a graph with no operations yet (layers' variables are fine): build the model after creating the context");
        Graph = graph;
        Variables = variables ?? new VariableStore();
        Variables.Initialize(graph);
        eval = new EvalContext { RunCounter = 0, GraphSeed = graph.Seed };
        graph.Eager = this;
    }

    public Graph Graph { get; }
    public VariableStore Variables { get; }

    /// <summary>
    /// Record each op's source line as it is made (a stack walk per op; the profiler wants it).
    /// Off, an op that fails still names the user's line: it is found then, while the call that
    /// made the op is on the stack.
    /// </summary>
    public bool CaptureSource { get; set; }

    /// <summary>Called after each op runs (the profiler listens here).</summary>
    public Action<Node, long, long>? OnNode { get; set; }

    /// <summary>Values held for the current step's tape (zero between steps).</summary>
    public int LiveValues => values.Count;

    /// <summary>Arrays of released steps waiting to be reused.</summary>
    public int PooledArrays => pool.Count;

    /// <summary>Counts steps; keys dropout masks exactly as the session's run counter does.</summary>
    public long StepCount { get; private set; }

    /// <summary>Starts a step; disposing it releases the step's tape and advances the step counter.</summary>
    public IDisposable Step() => new StepScope(this, Graph.NextId);

    /// <summary>Sets a placeholder's value for eager use (for example the training switch).</summary>
    public void Set(Tensor placeholder, NDArray value)
    {
        if (placeholder.Node.Op is not PlaceholderOp) throw new ArgumentException($"'{placeholder.Name}' is not a placeholder");
        placeholderValues[placeholder.Node] = value;
    }

    public void OnNodeAdded(Node node)
    {
        switch (node.Op)
        {
            case VariableOp:
                Variables.Initialize(Graph);
                return; // read from the store when used, so assignments show at once
            case PlaceholderOp:
                return; // set before use
        }
        var inputs = new NDArray[node.Inputs.Count];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = Read(node.Inputs[i]);
        NDArray[] outs;
        long start = OnNode is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
        try { outs = EagerKernels.Run(node, inputs, eval, pool); }
        catch (Exception e) when (e is not GraphRunException)
        {
            throw new GraphRunException(node, e, node.Source == SourceLocation.Unknown ? SourceLocation.Capture() : null);
        }
        OnNode?.Invoke(node, start, System.Diagnostics.Stopwatch.GetTimestamp());
        for (int i = 0; i < outs.Length; i++) values[node.Outputs[i]] = outs[i];
        if (node.Op is AssignOp)
        {
            var name = ((VariableOp)node.Inputs[0].Node.Op).VarName;
            replaced.Add(Variables.Get(name).Data);
            Variables.Set(name, outs[0]);
        }
    }

    private NDArray Read(Tensor t) => ValueOf(t) ?? throw new GraphException(
        $"'{t.Name}' has no value in eager mode: {(t.Node.Op is PlaceholderOp ? "set it with EagerContext.Set, or use a constant" : "it was released with an earlier step")}");

    public NDArray? ValueOf(Tensor t) => t.Node.Op switch
    {
        VariableOp v => Variables.Get(v.VarName),
        PlaceholderOp p => placeholderValues.GetValueOrDefault(t.Node) ?? p.Default,
        _ => values.GetValueOrDefault(t),
    };

    private void EndStep(int mark)
    {
        var released = Graph.ReleaseAfter(mark);
        // What outlives the step keeps its array: variables, constants (the caller's data),
        // placeholders' values. A view (a reshape) of one of them shares its array.
        var keep = new HashSet<Array>(ReferenceEqualityComparer.Instance);
        foreach (var v in Variables.Values.Values) keep.Add(v.Data);
        foreach (var v in placeholderValues.Values) keep.Add(v.Data);
        foreach (var n in released.Concat(Graph.Nodes))
            if (n.Op is ConstantOp c) keep.Add(c.Value.Data);
            else if (n.Op is PlaceholderOp { Default: { } d }) keep.Add(d.Data);
        var free = new List<Array>(replaced);
        foreach (var n in released)
            foreach (var o in n.Outputs)
                if (values.Remove(o, out var value)) free.Add(value.Data);
        pool.Return(free, keep);
        replaced.Clear();
        StepCount++;
        eval = new EvalContext { RunCounter = StepCount, GraphSeed = Graph.Seed };
    }

    public void Dispose() => Graph.Eager = null;

    private sealed class StepScope(EagerContext owner, int mark) : IDisposable
    {
        private bool done;
        public void Dispose() { if (!done) { done = true; owner.EndStep(mark); } }
    }
}
