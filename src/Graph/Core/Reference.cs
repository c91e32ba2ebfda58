namespace GraphNet;

/// <summary>
/// Runs a graph with nothing but each op's reference evaluation: plain loops in the tensors' own
/// dtype, never the runtime's library kernels. It is the oracle that every backend, the
/// interpreter included, is judged against (the fuzzer runs it in float64), and slow by design.
/// </summary>
public static class Reference
{
    /// <summary>
    /// The fetches' values given the feeds, the variables' values by name and the run counter (which draws
    /// dropout's masks, as a session's n-th run does).
    /// </summary>
    public static NDArray[] Run(IReadOnlyList<Tensor> fetches, IReadOnlyDictionary<Tensor, NDArray> feeds,
        IReadOnlyDictionary<string, NDArray>? variables = null, long runCounter = 0)
    {
        var g = fetches[0].Graph;
        var needed = new HashSet<Node>();
        var stack = new Stack<Node>(fetches.Select(f => f.Node));
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            if (!needed.Add(n) || feeds.ContainsKey(n.Outputs[0])) continue;
            foreach (var i in n.Inputs) stack.Push(i.Node);
        }
        var ctx = new EvalContext { RunCounter = runCounter, GraphSeed = g.Seed };
        var values = new Dictionary<Tensor, NDArray>();
        foreach (var n in g.Nodes.Where(needed.Contains))
        {
            if (feeds.TryGetValue(n.Outputs[0], out var v)) { values[n.Outputs[0]] = v; continue; }
            NDArray[] outs;
            if (n.Op is VariableOp vo)
                outs = [variables?.GetValueOrDefault(vo.VarName)
                    ?? throw new GraphException($"reference evaluation: no value given for variable '{vo.VarName}'")];
            else outs = n.Op.Evaluate(ctx, n.Inputs.Select(i => values[i]).ToArray());
            for (int i = 0; i < outs.Length; i++) values[n.Outputs[i]] = outs[i];
        }
        return fetches.Select(f => values[f]).ToArray();
    }
}
