namespace GraphNet.Compiler;

/// <summary>
/// Greedy fusion in graph order. A pointwise node joins the kernel of a producer with the same
/// loop domain (merging several producers' kernels when it can); a kernel with an anchor takes
/// pointwise consumers of its output shape as an epilogue; a reduction absorbs a pointwise
/// producer that nobody else reads. A merge that would make a cycle between kernels is refused.
/// Every decision is recorded with its reason.
/// </summary>
public static class Fusion
{
    /// <summary>
    /// Plans fusion with a cycle check that walks back only as far as the nodes being merged
    /// (linear in the graph for the usual short-range merges); a plan whose kernels still form a
    /// cycle, which that bound can miss in contrived graphs, is made again with the exact check.
    /// </summary>
    /// <remarks>
    /// <paramref name="fuse"/> false keeps every pointwise node and reduction a kernel of its own
    /// (SessionOptions.CheckNumerics: every value is then stored, so every value is checked).
    /// </remarks>
    public static FusionPlan Plan(Unit unit, bool fuse = true)
    {
        var plan = Plan(unit, bounded: true, fuse);
        return KernelsAreAcyclic(plan) ? plan : Plan(unit, bounded: false, fuse);
    }

    private static FusionPlan Plan(Unit unit, bool bounded, bool fuse)
    {
        var plan = new FusionPlan();
        var removed = new HashSet<FusionGroup>();
        var decisionOf = new Dictionary<Node, int>();
        var consumers = Consumers(unit.Graph);
        var fetched = new HashSet<Tensor>(unit.Fetches);
        foreach (var node in unit.Graph.Nodes)
        {
            decisionOf[node] = plan.Decisions.Count;
            var cls = NodeClasses.Of(node);
            switch (cls)
            {
                case NodeClass.Input: plan.Decisions.Add(new(node, -1, "input: exists before the step")); break;
                case NodeClass.View: plan.Decisions.Add(new(node, -1, node.Op is AssignOp ? "assignment: the value is written back after the step" : "view: shares its input's buffer")); break;
                case NodeClass.Pointwise when !fuse:
                    Join(plan, NewGroup(plan, node.OutputTypes[0].Shape, null, removed), node);
                    plan.Decisions.Add(new(node, plan.GroupOf[node].Id,
                        "a pointwise kernel of its own: fusion is off (CheckNumerics checks every value)"));
                    break;
                case NodeClass.Pointwise: PlacePointwise(plan, node, removed, bounded); break;
                case NodeClass.Reduce when !fuse:
                    plan.Decisions.Add(new(node, NewGroup(plan, node.OutputTypes[0].Shape, node, removed).Id, "reduction kernel (fusion is off)"));
                    break;
                case NodeClass.Reference when node.Op is SliceOp && Compiler.SliceViews.Qualifies(node, consumers, fetched):
                    plan.SliceViews.Add(node);
                    plan.Decisions.Add(new(node, -1, "view: its readers' loops read the slice's rows in place (strided), no copy"));
                    break;
                case NodeClass.Reference when node.Op is ConcatOp && Compiler.ConcatViews.Qualifies(node, plan, consumers, fetched):
                    plan.ConcatViews.Add(node);
                    plan.Decisions.Add(new(node, -1, "view: the loops that compute its pieces store them in place (strided), no copy"));
                    break;
                case NodeClass.Reduce: PlaceReduce(plan, node, consumers, fetched, removed, decisionOf); break;
                default:
                    var g = NewGroup(plan, node.OutputTypes[0].Shape, node, removed);
                    plan.Decisions.Add(new(node, g.Id, cls == NodeClass.Library ? $"library kernel ({node.Op.Name})" : $"reference evaluation: {node.Op.Name} has no generated or library kernel for {node.Inputs.FirstOrDefault()?.DType.ShortName()}"));
                    break;
            }
        }
        // Merged-away groups leave the list once, at the end (removing each at once is quadratic).
        plan.Groups.RemoveAll(removed.Contains);
        return plan;
    }

    /// <summary>A group's id is the number of live groups when it is made (as if merged groups had left the list at once).</summary>
    private static FusionGroup NewGroup(FusionPlan plan, Shape domain, Node? anchor, HashSet<FusionGroup> removed)
    {
        var g = new FusionGroup(plan.Groups.Count - removed.Count, domain, anchor);
        plan.Groups.Add(g);
        if (anchor is not null) plan.GroupOf[anchor] = g;
        return g;
    }

    private static void PlacePointwise(FusionPlan plan, Node node, HashSet<FusionGroup> removed, bool bounded)
    {
        var domain = node.OutputTypes[0].Shape;
        var candidates = new List<FusionGroup>();
        var refusals = new List<string>();
        foreach (var input in node.Inputs)
        {
            var p = input.Node;
            if (!plan.GroupOf.TryGetValue(p, out var g)) continue;
            if (candidates.Contains(g)) continue;
            if (g.Domain != domain) { refusals.Add($"%{p.Id} runs over {g.Domain}, this over {domain}"); continue; }
            if (g.Prologue.Contains(p)) { refusals.Add($"%{p.Id} is inside a reduction's loop"); continue; }
            if (g.Anchor is { } a && p == a && NodeClasses.Of(a) == NodeClass.Reference) { refusals.Add($"%{p.Id} is a reference op"); continue; }
            candidates.Add(g);
        }
        // At most one anchored kernel can take the node; keep the one joined first.
        var anchored = candidates.Where(c => c.Anchor is not null).ToList();
        foreach (var extra in anchored.Skip(1)) { candidates.Remove(extra); refusals.Add($"kernel {extra.Id} has its own anchor ({extra.Anchor!.Op.Name})"); }
        // An epilogue runs after its anchor: nothing the anchor reads may move into it.
        if (anchored.FirstOrDefault() is { Anchor: { } anchor })
            foreach (var other in candidates.Where(c => c.Anchor is null).ToList())
                if (DependsOn(anchor, other.Pointwise))
                {
                    candidates.Remove(other);
                    refusals.Add($"kernel {other.Id} computes an input of {anchor.Op.Name} %{anchor.Id}");
                }
        // Drop candidates whose merge would make a cycle through a node outside the kernels.
        while (candidates.Count > 0 && CreatesCycle(plan, candidates, node, bounded) is { } bad)
        {
            candidates.Remove(bad);
            refusals.Add($"joining kernel {bad.Id} would make a cycle between kernels");
        }
        string why = refusals.Count > 0 ? " (not with: " + string.Join("; ", refusals) + ")" : "";
        if (candidates.Count == 0)
        {
            var g = NewGroup(plan, domain, null, removed);
            Join(plan, g, node);
            plan.Decisions.Add(new(node, g.Id, "starts a pointwise kernel" + why));
            return;
        }
        var target = candidates.FirstOrDefault(c => c.Anchor is not null) ?? candidates[0];
        foreach (var other in candidates.Where(c => c != target))
        {
            foreach (var n in other.Pointwise) { target.Pointwise.Add(n); plan.GroupOf[n] = target; }
            other.Pointwise.Clear();
            removed.Add(other);
        }
        target.Pointwise.Sort((a, b) => a.Id.CompareTo(b.Id));
        Join(plan, target, node);
        string how = target.Anchor is null ? "fused into pointwise kernel" : $"fused as epilogue of {target.Anchor.Op.Name}";
        plan.Decisions.Add(new(node, target.Id, $"{how} {target.Id}" + (candidates.Count > 1 ? $" (merging {candidates.Count} kernels)" : "") + why));
    }

    private static void Join(FusionPlan plan, FusionGroup g, Node node) { g.Pointwise.Add(node); plan.GroupOf[node] = g; }

    private static void PlaceReduce(FusionPlan plan, Node node, Dictionary<Tensor, List<Node>> consumers, HashSet<Tensor> fetched,
        HashSet<FusionGroup> removed, Dictionary<Node, int> decisionOf)
    {
        var input = node.Inputs[0];
        var g = NewGroup(plan, node.OutputTypes[0].Shape, node, removed);
        if (plan.GroupOf.TryGetValue(input.Node, out var producer) && producer.Anchor is null && producer != g
            && producer.Pointwise.All(n => n.Outputs.All(o => o == input || (consumers.GetValueOrDefault(o) ?? []).All(c => plan.GroupOf.GetValueOrDefault(c) == producer)))
            && consumers[input].Count == 1 && !fetched.Contains(input)
            && producer.Pointwise.All(n => n.Outputs.All(o => !fetched.Contains(o))))
        {
            // The producer's only result feeds this reduction: compute it inside the reduction's loop.
            g.Prologue.AddRange(producer.Pointwise);
            foreach (var n in producer.Pointwise) plan.GroupOf[n] = g;
            removed.Add(producer);
            foreach (var n in producer.Pointwise)
            {
                int i = decisionOf[n];
                plan.Decisions[i] = plan.Decisions[i] with { Group = g.Id, Reason = plan.Decisions[i].Reason + $"; then moved into the loop of reduction kernel {g.Id}" };
            }
            plan.Decisions.Add(new(node, g.Id, $"reduction kernel with its pointwise producer inside the loop"));
        }
        else
            plan.Decisions.Add(new(node, g.Id, "reduction kernel" + (plan.GroupOf.ContainsKey(input.Node) ? " (its producer's result is also used elsewhere, or it has an anchor)" : "")));
    }

    /// <summary>
    /// A candidate kernel whose merge with the others and the node would close a cycle between
    /// kernels, or null. The walk goes backwards from the merged kernel's outside inputs, and a
    /// kernel once entered counts whole (all its nodes run together). <paramref name="bounded"/>:
    /// stop at kernels (and lone nodes) made wholly before the earliest member, since edges run
    /// from earlier nodes to later ones; only a kernel that mixes early and late nodes can lead
    /// past that bound, and <see cref="KernelsAreAcyclic"/> catches what that misses.
    /// </summary>
    private static FusionGroup? CreatesCycle(FusionPlan plan, List<FusionGroup> candidates, Node node, bool bounded)
    {
        var members = new HashSet<Node>(candidates.SelectMany(c => c.Nodes)) { node };
        int earliest = bounded ? members.Min(m => m.Id) : int.MinValue;
        var seen = new HashSet<Node>();
        var stack = new Stack<Node>();
        foreach (var m in members)
            foreach (var i in m.Inputs)
                if (!members.Contains(i.Node)) stack.Push(i.Node);
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            if (!seen.Add(n)) continue;
            IEnumerable<Node> unit = plan.GroupOf.TryGetValue(n, out var h) ? h.Nodes : [n];
            if (bounded && unit.All(u => u.Id < earliest)) continue;
            foreach (var u in unit)
            {
                seen.Add(u);
                foreach (var i in u.Inputs)
                {
                    if (members.Contains(i.Node)) return candidates.FirstOrDefault(c => c.Nodes.Contains(i.Node)) ?? candidates[^1];
                    stack.Push(i.Node);
                }
            }
        }
        return null;
    }

    /// <summary>Whether the kernels of a plan can run in some order (no kernel reads, through others, what it makes).</summary>
    private static bool KernelsAreAcyclic(FusionPlan plan)
    {
        // Kahn's algorithm over kernels, looking through views to the kernels that make their values.
        var readers = plan.Groups.ToDictionary(g => g, _ => new HashSet<FusionGroup>());
        var pending = plan.Groups.ToDictionary(g => g, _ => 0);
        foreach (var g in plan.Groups)
            foreach (var p in g.Nodes.SelectMany(n => n.Inputs).SelectMany(i => Lowering.Producers(plan, i.Node)).Where(p => p != g).Distinct())
                if (readers[p].Add(g)) pending[g]++;
        var ready = new Queue<FusionGroup>(plan.Groups.Where(g => pending[g] == 0));
        int ran = 0;
        while (ready.Count > 0)
        {
            var g = ready.Dequeue();
            ran++;
            foreach (var r in readers[g])
                if (--pending[r] == 0) ready.Enqueue(r);
        }
        return ran == plan.Groups.Count;
    }

    /// <summary>Whether <paramref name="node"/> reads, directly or not, any of <paramref name="nodes"/>.</summary>
    private static bool DependsOn(Node node, IEnumerable<Node> nodes)
    {
        var targets = nodes.ToHashSet();
        if (targets.Count == 0) return false;
        int min = targets.Min(n => n.Id);
        var seen = new HashSet<Node>();
        var stack = new Stack<Node>(node.Inputs.Select(i => i.Node));
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            if (n.Id < min || !seen.Add(n)) continue;
            if (targets.Contains(n)) return true;
            foreach (var i in n.Inputs) stack.Push(i.Node);
        }
        return false;
    }

    public static Dictionary<Tensor, List<Node>> Consumers(Graph g)
    {
        var d = new Dictionary<Tensor, List<Node>>();
        foreach (var n in g.Nodes)
        {
            foreach (var o in n.Outputs) d.TryAdd(o, []);
            foreach (var i in n.Inputs) d[i].Add(n);
        }
        return d;
    }
}
