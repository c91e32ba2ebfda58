namespace GraphNet.Runtime;

/// <summary>
/// Eager mode: every node added to the graph is evaluated at once through the runtime's kernels
/// (PyTorch style), and its value can be read with <see cref="Tensor.Value"/>. The nodes recorded
/// on the way are the tape; <see cref="F.Gradients"/> on it gives backward with the same gradient
/// rules as deferred mode, and an optimizer's Minimize applies its update immediately.
/// Wrap each training step in <see cref="Step"/>: the step's tape and values are released when
/// it ends, and the dropout counter advances (one step = one Session.Run in deferred mode).
/// </summary>
public sealed class EagerContext : IEagerBackend, IDisposable
{
    private readonly Dictionary<Tensor, NDArray> values = [];
    private readonly Dictionary<Node, NDArray> placeholderValues = [];

    public EagerContext(Graph graph, VariableStore? variables = null)
    {
        if (graph.Eager is not null) throw new InvalidOperationException("the graph already has an eager context");
        if (graph.Nodes.Any(n => n.Op is not (VariableOp or PlaceholderOp)))
            throw new InvalidOperationException("eager mode needs a graph with no operations yet (layers' variables are fine): build the model after creating the context");
        Graph = graph;
        Variables = variables ?? new VariableStore();
        Variables.Initialize(graph);
        graph.Eager = this;
    }

    public Graph Graph { get; }
    public VariableStore Variables { get; }

    /// <summary>Record each op's source line (off by default: eager errors carry the caller's stack trace anyway).</summary>
    public bool CaptureSource { get; set; }

    /// <summary>Called after each op runs (the profiler listens here).</summary>
    public Action<Node, long, long>? OnNode { get; set; }

    /// <summary>Values held for the current step's tape (zero between steps).</summary>
    public int LiveValues => values.Count;

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
            case PlaceholderOp p:
                if (p.Default is null && !placeholderValues.ContainsKey(node)) return; // set before use
                return;
        }
        var inputs = node.Inputs.Select(Read).ToArray();
        NDArray[] outs;
        long start = OnNode is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
        try { outs = Interpreter.Evaluate(node, inputs, new EvalContext { RunCounter = StepCount, GraphSeed = Graph.Seed }); }
        catch (Exception e) when (e is not GraphRunException) { throw new GraphRunException(node, e); }
        OnNode?.Invoke(node, start, System.Diagnostics.Stopwatch.GetTimestamp());
        for (int i = 0; i < outs.Length; i++) values[node.Outputs[i]] = outs[i];
        if (node.Op is AssignOp) Variables.Set(((VariableOp)node.Inputs[0].Node.Op).VarName, outs[0]);
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
        foreach (var n in Graph.ReleaseAfter(mark))
            foreach (var o in n.Outputs) values.Remove(o);
        StepCount++;
    }

    public void Dispose() => Graph.Eager = null;

    private sealed class StepScope(EagerContext owner, int mark) : IDisposable
    {
        private bool done;
        public void Dispose() { if (!done) { done = true; owner.EndStep(mark); } }
    }
}
