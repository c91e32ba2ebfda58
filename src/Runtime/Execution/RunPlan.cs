namespace GraphNet.Runtime;

/// <summary>
/// What one run needs: the nodes the fetches depend on (in graph order), the checks on feeds and
/// variables, and where each value dies. Built once per (fetches, feeds) and reused.
/// </summary>
public sealed class RunPlan
{
    public Graph Graph { get; }
    public IReadOnlyList<Tensor> Fetches { get; }
    public IReadOnlyList<Tensor> FedTensors { get; }
    public Node[] Schedule { get; }
    /// <summary>For each scheduled node: inputs whose value is not needed after it.</summary>
    public Tensor[][] Frees { get; }

    public RunPlan(Graph graph, IReadOnlyList<Tensor> fetches, IReadOnlyList<Tensor> fed)
    {
        Graph = graph; Fetches = fetches; FedTensors = fed;
        foreach (var f in fetches)
            if (f.Graph != graph) throw new GraphException($"fetch '{f.Name}' belongs to another Graph than this session's");
        foreach (var f in fed)
            if (f.Graph != graph) throw new GraphException($"feed '{f.Name}' belongs to another Graph than this session's");
        var fedNodes = new HashSet<Node>(fed.Select(t => t.Node));
        var needed = new HashSet<Node>();
        var stack = new Stack<Node>(fetches.Select(f => f.Node));
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            if (!needed.Add(n) || fedNodes.Contains(n)) continue;
            foreach (var i in n.Inputs) stack.Push(i.Node);
        }
        Schedule = needed.OrderBy(n => n.Id).ToArray();
        foreach (var n in Schedule)
            if (n.Op is PlaceholderOp { Default: null } && !fedNodes.Contains(n))
                throw new GraphException($"placeholder '{n.Name}' ({n.OutputTypes[0]}, made at {n.Source}) must be fed: pass it in the feeds of Session.Run");

        // Liveness: a value dies after its last consumer, unless it is fetched.
        var lastUse = new Dictionary<Tensor, int>();
        for (int s = 0; s < Schedule.Length; s++)
            if (!fedNodes.Contains(Schedule[s]))
                foreach (var i in Schedule[s].Inputs) lastUse[i] = s;
        var fetched = new HashSet<Tensor>(fetches);
        Frees = new Tensor[Schedule.Length][];
        var byStep = lastUse.Where(kv => !fetched.Contains(kv.Key)).GroupBy(kv => kv.Value).ToDictionary(gr => gr.Key, gr => gr.Select(kv => kv.Key).ToArray());
        for (int s = 0; s < Schedule.Length; s++) Frees[s] = byStep.TryGetValue(s, out var f) ? f : [];
    }
}
