namespace GraphNet;

public static partial class F
{
    /// <summary>
    /// Reverse-mode differentiation: adds the backward graph to the same graph and returns
    /// d(sum of ys)/dx for each x (null where x does not influence ys). <paramref name="gradYs"/>
    /// seeds the output gradients (default: ones).
    /// </summary>
    public static Tensor?[] Gradients(IReadOnlyList<Tensor> ys, IReadOnlyList<Tensor> xs, IReadOnlyList<Tensor>? gradYs = null)
    {
        if (ys.Count == 0) throw new ArgumentException("Gradients needs at least one y");
        var g = ys[0].Graph;
        foreach (var t in ys.Concat(xs).Concat(gradYs ?? []))
            if (t.Graph != g) throw new GraphException($"Gradients: '{t.Name}' belongs to another Graph");

        // Nodes between xs and ys: reachable backwards from ys and forwards from xs.
        var fromYs = new HashSet<Node>();
        var stack = new Stack<Node>(ys.Select(y => y.Node));
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            if (!fromYs.Add(n)) continue;
            foreach (var i in n.Inputs) stack.Push(i.Node);
        }
        var relevant = new HashSet<Node>(xs.Select(x => x.Node).Where(fromYs.Contains));
        foreach (var n in g.Nodes)
            if (fromYs.Contains(n) && n.Inputs.Any(i => relevant.Contains(i.Node) && i.DType.IsFloat())) relevant.Add(n);

        var grads = new Dictionary<Tensor, List<Tensor>>();
        for (int i = 0; i < ys.Count; i++)
        {
            var seed = gradYs?[i] ?? OnesLike(ys[i]);
            Accumulate(grads, ys[i], seed);
        }

        var xSet = new HashSet<Node>(xs.Select(x => x.Node));
        foreach (var node in relevant.OrderByDescending(n => n.Id))
        {
            if (node.Inputs.Count == 0) continue;
            var outGrads = node.Outputs.Select(o => grads.TryGetValue(o, out var parts) && o.DType.IsFloat() ? SumParts(parts) : null).ToArray();
            if (outGrads.All(d => d is null)) continue;
            Tensor?[] inGrads;
            g.CurrentForward = node;
            var needs = new bool[node.Inputs.Count];
            for (int i = 0; i < needs.Length; i++) needs[i] = relevant.Contains(node.Inputs[i].Node) && node.Inputs[i].DType.IsFloat();
            try { inGrads = node.Op.Gradient(new GradContext(node, outGrads, needs)); }
            finally { g.CurrentForward = null; }
            for (int i = 0; i < node.Inputs.Count; i++)
            {
                var input = node.Inputs[i];
                if (inGrads.Length <= i || inGrads[i] is not { } gi || !relevant.Contains(input.Node)) continue;
                if (gi.Shape != input.Shape)
                    throw new GraphException($"gradient rule of {node.Describe()} gave {gi.Shape} for input {i} of shape {input.Shape}");
                Accumulate(grads, input, gi);
            }
        }
        return xs.Select(x => grads.TryGetValue(x, out var p) ? SumParts(p) : null).ToArray();
    }

    public static Tensor? Gradient(Tensor y, Tensor x) => Gradients([y], [x])[0];

    private static void Accumulate(Dictionary<Tensor, List<Tensor>> grads, Tensor t, Tensor g)
    {
        if (!grads.TryGetValue(t, out var list)) grads[t] = list = [];
        list.Add(g);
    }

    private static Tensor SumParts(List<Tensor> parts)
    {
        // Sum once and cache, so a node's gradient is built only one time.
        while (parts.Count > 1) { var s = parts[0] + parts[1]; parts.RemoveRange(0, 2); parts.Insert(0, s); }
        return parts[0];
    }
}
