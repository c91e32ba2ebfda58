namespace GraphNet.Compiler;

/// <summary>The lowering stage: each fusion group becomes a kernel, in an order where every kernel runs after those it reads.</summary>
public sealed class Lower : Stage
{
    public override string Name => "lower";

    public override void Run(Compilation c) => c.Report.Kernels = c.Kernels = Lowering.Lower(c.Unit, c.Fusion);

    public override void Verify(Compilation c) => Verifier.VerifyKernels(c.Unit, c.Kernels, c.Fusion, Name);

    public override IEnumerable<(string File, Func<string> Text)> Dump(Compilation c)
    {
        var (unit, kernels) = (c.Unit, c.Kernels);
        return [("txt", () => KernelText.Format(kernels)), ("dot", () => CompileDump.FusedDot(unit, kernels))];
    }
}

/// <summary>Turns fusion groups into kernels in a valid order and decides which tensors are materialized.</summary>
public static class Lowering
{
    public static List<Kernel> Lower(Unit unit, FusionPlan plan)
    {
        var consumers = Fusion.Consumers(unit.Graph);
        var fetched = new HashSet<Tensor>(unit.Fetches);
        var groups = TopologicalOrder(plan);
        var kernels = new List<Kernel>();
        foreach (var g in groups)
        {
            var members = new HashSet<Node>(g.Nodes);
            var pointwise = g.Prologue.Concat(g.Pointwise).ToHashSet();
            var leaves = new List<Tensor>();
            foreach (var n in pointwise)
                foreach (var i in n.Inputs)
                    if (!pointwise.Contains(i.Node) && !leaves.Contains(i) && !(n.Op is BroadcastLikeOp && n.Inputs[1] == i))
                        leaves.Add(i);
            var outputs = new List<Tensor>();
            if (g.Anchor is { } a) outputs.AddRange(a.Outputs);
            foreach (var n in g.Pointwise)
            {
                var o = n.Outputs[0];
                bool usedOutside = consumers[o].Any(c => !members.Contains(c));
                if (usedOutside || fetched.Contains(o)) outputs.Add(o);
            }
            kernels.Add(new Kernel
            {
                Index = kernels.Count, Name = $"k{kernels.Count}_" + string.Join("_", g.Nodes.Select(n => n.Op.Name).Distinct().Take(4)),
                Anchor = g.Anchor, Prologue = g.Prologue, Epilogue = g.Pointwise, Domain = g.Domain,
                Leaves = leaves, Outputs = outputs,
            });
        }
        return kernels;
    }

    /// <summary>Kernels ordered so each runs after the kernels it reads from.</summary>
    private static List<FusionGroup> TopologicalOrder(FusionPlan plan)
    {
        var deps = plan.Groups.ToDictionary(g => g, _ => new HashSet<FusionGroup>());
        foreach (var g in plan.Groups)
            foreach (var n in g.Nodes)
                foreach (var i in n.Inputs)
                    foreach (var p in Producers(plan, i.Node))
                        if (p != g) deps[g].Add(p);
        // Depth first, each kernel's inputs in the order of their first nodes, with an explicit
        // stack: an unrolled sequence has chains of thousands of kernels.
        var order = new List<FusionGroup>();
        var state = new Dictionary<FusionGroup, int>(); // 1: on the stack, 2: placed
        var stack = new Stack<(FusionGroup Group, IEnumerator<FusionGroup> Deps)>();
        foreach (var root in plan.Groups.OrderBy(g => g.Nodes.Min(n => n.Id)))
        {
            if (state.ContainsKey(root)) continue;
            state[root] = 1;
            stack.Push((root, deps[root].OrderBy(d => d.Nodes.Min(n => n.Id)).GetEnumerator()));
            while (stack.Count > 0)
            {
                var (g, rest) = stack.Peek();
                if (rest.MoveNext())
                {
                    var d = rest.Current;
                    if (state.TryGetValue(d, out var s))
                    {
                        if (s == 1) throw new InvalidOperationException($"fusion made a cycle through kernel {d.Id}");
                        continue;
                    }
                    state[d] = 1;
                    stack.Push((d, deps[d].OrderBy(e => e.Nodes.Min(n => n.Id)).GetEnumerator()));
                    continue;
                }
                stack.Pop();
                state[g] = 2;
                order.Add(g);
            }
        }
        return order;
    }

    /// <summary>The kernels that produce a node's value, looking through views (slices read in place included).</summary>
    internal static IEnumerable<FusionGroup> Producers(FusionPlan plan, Node n)
    {
        if (plan.GroupOf.TryGetValue(n, out var g)) { yield return g; yield break; }
        if (NodeClasses.Of(n) == NodeClass.View || plan.SliceViews.Contains(n) || plan.ConcatViews.Contains(n))
            foreach (var i in n.Inputs)
                foreach (var p in Producers(plan, i.Node)) yield return p;
    }
}
