namespace GraphNet.Compiler;

/// <summary>
/// Checks what a stage made: a unit after a graph pass (topological order, no dangling inputs,
/// types that re-infer), fusion groups, the kernel schedule, and the memory plan's buffers and
/// lifetimes. A failure names the stage and the node, kernel or buffer at fault.
/// </summary>
public static class Verifier
{
    public static void Verify(Unit unit, string afterPass)
    {
        var g = unit.Graph;
        for (int i = 0; i < g.Nodes.Count; i++)
        {
            var n = g.Nodes[i];
            string Where() => $"after pass '{afterPass}': node %{n.Id} {n.Op.Name} '{n.Name}'";
            if (i > 0 && n.Id <= g.Nodes[i - 1].Id) throw new InvalidOperationException($"{Where()} has id {n.Id} after %{g.Nodes[i - 1].Id} (ids must grow)");
            foreach (var input in n.Inputs)
            {
                if (input.Graph != g) throw new InvalidOperationException($"{Where()} reads '{input.Name}' from another graph (dangling input)");
                if (input.Node.Id >= n.Id) throw new InvalidOperationException($"{Where()} reads %{input.Node.Id}, which comes later (not topological)");
            }
            var types = n.Op.InferTypes(n.Inputs.Select(t => t.Type).ToArray());
            if (!types.SequenceEqual(n.OutputTypes))
                throw new InvalidOperationException($"{Where()} has types {string.Join(",", n.OutputTypes)} but its inputs infer {string.Join(",", types.Select(t => t.ToString()))}");
        }
        foreach (var t in unit.Fetches.Concat(unit.Feeds))
            if (t.Graph != g) throw new InvalidOperationException($"after pass '{afterPass}': fetch or feed '{t.Name}' is not in the graph");
    }

    /// <summary>Every node that computes something is in exactly one group (or is a view); each group's loop nodes run over its domain.</summary>
    public static void VerifyFusion(Unit unit, FusionPlan plan, string stage)
    {
        var seen = new Dictionary<Node, int>();
        foreach (var g in plan.Groups)
            foreach (var n in g.Nodes)
            {
                if (seen.TryGetValue(n, out var other))
                    throw new InvalidOperationException($"after stage '{stage}': {n} is in groups {other} and {g.Id}");
                seen[n] = g.Id;
                if (plan.GroupOf.GetValueOrDefault(n) != g)
                    throw new InvalidOperationException($"after stage '{stage}': {n} is in group {g.Id} but mapped elsewhere");
                if (g.Pointwise.Contains(n) && n.OutputTypes[0].Shape != g.Domain)
                    throw new InvalidOperationException(
                        $"after stage '{stage}': {n} of shape {n.OutputTypes[0].Shape} is in a loop over {g.Domain} (group {g.Id})");
            }
        foreach (var n in unit.Graph.Nodes)
        {
            if (seen.ContainsKey(n) || plan.SliceViews.Contains(n) || plan.ConcatViews.Contains(n)) continue;
            if (NodeClasses.Of(n) is not (NodeClass.Input or NodeClass.View))
                throw new InvalidOperationException($"after stage '{stage}': {n} ({NodeClasses.Of(n)}) is in no group");
        }
    }

    /// <summary>Each node in one kernel; each kernel after every kernel whose values it reads; every listed leaf read, every output made.</summary>
    public static void VerifyKernels(Unit unit, IReadOnlyList<Kernel> kernels, FusionPlan plan, string stage)
    {
        var kernelOf = new Dictionary<Node, int>();
        for (int k = 0; k < kernels.Count; k++)
        {
            if (kernels[k].Index != k)
                throw new InvalidOperationException($"after stage '{stage}': kernel {kernels[k].Name} at position {k} has index {kernels[k].Index}");
            foreach (var n in kernels[k].Nodes)
                if (!kernelOf.TryAdd(n, k)) throw new InvalidOperationException($"after stage '{stage}': {n} is in kernels {kernelOf[n]} and {k}");
        }
        // The kernel whose run makes a value available: its own, or, through views, its sources'.
        var ready = new Dictionary<Node, int>();
        int ReadyAt(Tensor t)
        {
            if (kernelOf.TryGetValue(t.Node, out var k)) return k;
            if (ready.TryGetValue(t.Node, out k)) return k;
            k = -1;
            if (NodeClasses.Of(t.Node) != NodeClass.Input) foreach (var i in t.Node.Inputs) k = Math.Max(k, ReadyAt(i));
            return ready[t.Node] = k;
        }
        for (int k = 0; k < kernels.Count; k++)
        {
            var kernel = kernels[k];
            var inside = kernel.Nodes.ToHashSet();
            foreach (var n in kernel.Nodes)
                foreach (var i in n.Inputs)
                    if (!inside.Contains(i.Node) && ReadyAt(i) >= k)
                        throw new InvalidOperationException(
                            $"after stage '{stage}': kernel {kernel.Name} reads '{i.Name}' before kernel {ReadyAt(i)} makes it");
            foreach (var o in kernel.Outputs)
                if (!inside.Contains(o.Node))
                    throw new InvalidOperationException($"after stage '{stage}': kernel {kernel.Name} lists output '{o.Name}' it does not compute");
        }
        foreach (var n in unit.Graph.Nodes)
            if (!kernelOf.ContainsKey(n) && NodeClasses.Of(n) is not (NodeClass.Input or NodeClass.View)
                && !plan.SliceViews.Contains(n) && !plan.ConcatViews.Contains(n))
                throw new InvalidOperationException($"after stage '{stage}': {n} runs in no kernel");
    }

    /// <summary>
    /// Every value a kernel reads or writes has a buffer; no two values share a buffer while both are alive; the
    /// table's entries are distinct.
    /// </summary>
    public static void VerifyMemory(Unit unit, IReadOnlyList<Kernel> kernels, MemoryPlan memory, BufferTable table, string stage)
    {
        foreach (var k in kernels)
        {
            // What crosses the kernel's edge: values it reads from outside, and the values it writes.
            var inside = k.Nodes.ToHashSet();
            foreach (var t in k.Nodes.SelectMany(n => n.Inputs).Where(i => !inside.Contains(i.Node)).Concat(k.Outputs))
                if (!memory.StorageOf.ContainsKey(MemoryPlan.Root(t)))
                    throw new InvalidOperationException($"after stage '{stage}': '{t.Name}' of kernel {k.Name} has no buffer");
        }
        foreach (var slot in memory.Lifetimes.GroupBy(l => l.Slot))
        {
            var lives = slot.OrderBy(l => l.Def).ThenBy(l => l.LastUse).ToList();
            for (int i = 1; i < lives.Count; i++)
                // A value may take the buffer of one that dies in the same kernel (in place), not of one still alive.
                if (lives[i].Def < lives[i - 1].LastUse)
                    throw new InvalidOperationException($"after stage '{stage}': buffer {slot.Key.Index} holds '{lives[i - 1].Tensor.Name}' " +
                        $"(kernels {lives[i - 1].Def}..{lives[i - 1].LastUse}) and '{lives[i].Tensor.Name}' (from kernel {lives[i].Def}) at once");
        }
        var entries = memory.StorageOf.Values.Distinct().Select(s => (s, i: table.IndexOf(s))).ToList();
        foreach (var (s, i) in entries)
            if (i < 0 || i >= table.Count)
                throw new InvalidOperationException($"after stage '{stage}': {s} sits at {i}, outside the buffer table of {table.Count}");
        foreach (var clash in entries.GroupBy(e => e.i).Where(g => g.Count() > 1))
            throw new InvalidOperationException(
                $"after stage '{stage}': {string.Join(" and ", clash.Select(e => e.s))} share buffer table entry {clash.Key}");
    }
}

