using System.Text;

namespace GraphNet.Compiler;

public enum StorageKind { Feed, Variable, Constant, Slot, VariableNext }

/// <summary>Where a tensor's elements live during a step. Views share their source's storage.</summary>
public sealed record Storage(StorageKind Kind, int Index, DType DType, long StaticSize, bool Symbolic)
{
    public long Elements(int batch) => StaticSize * (Symbolic ? batch : 1);
}

/// <summary>
/// Liveness over the kernel schedule and buffer reuse: a kernel's output takes a free slot of the
/// same element type and size, or an input's slot when the input dies there and is read
/// element for element (in place). Values assigned to variables are written straight into the
/// variable's second buffer, swapped in after the step. A slice read in place (see
/// <see cref="Compiler.SliceViews"/>) shares its input's buffer, which stays alive until its last
/// reader has run; the pieces of a concatenation stored in place (see <see cref="Compiler.ConcatViews"/>)
/// share the concatenation's buffer, made when the first piece is written.
/// </summary>
public sealed class MemoryPlan
{
    /// <summary>Slices read in place by loops: their tensors map to their input's storage.</summary>
    public IReadOnlySet<Node> SliceViews { get; private init; } = new HashSet<Node>();

    /// <summary>Pieces that their loops store into a concatenation's buffer, with their layouts there.</summary>
    public IReadOnlyDictionary<Tensor, (Node Concat, LeafView View)> Pieces { get; private init; } = new Dictionary<Tensor, (Node, LeafView)>();

    /// <summary>
    /// How a loop reads or writes <paramref name="t"/> in place inside a larger buffer: a slice read
    /// in place (or a reshape of one), or a piece stored into its concatenation; else null.
    /// </summary>
    public LeafView? ViewOf(Tensor t) =>
        Pieces.TryGetValue(t, out var piece) ? piece.View
        : Compiler.SliceViews.SliceOf(t, SliceViews) is { } slice ? Compiler.SliceViews.Layout(slice, t.Shape) : null;

    public Dictionary<Tensor, Storage> StorageOf { get; } = [];
    public List<Storage> Slots { get; } = [];
    public List<Node> Feeds { get; } = [];
    public List<Node> Variables { get; } = [];
    public List<Node> Constants { get; } = [];
    /// <summary>(slot, first kernel, last kernel) for the report.</summary>
    public List<(Tensor Tensor, Storage Slot, int Def, int LastUse)> Lifetimes { get; } = [];
    public long NaiveBytes(int batch) => naive.Sum(t => Size(t.Type, batch));
    public long ArenaBytes(int batch) => Slots.Sum(s => s.Elements(batch) * s.DType.SizeInBytes());

    private readonly List<Tensor> naive = [];

    private static long Size(TensorType t, int batch) => t.Shape.StaticSize * (t.Shape.IsSymbolic ? batch : 1) * t.DType.SizeInBytes();

    public static MemoryPlan Build(Unit unit, List<Kernel> kernels, IReadOnlySet<Node>? sliceViews = null, IReadOnlySet<Node>? concatViews = null)
    {
        var plan = new MemoryPlan { SliceViews = sliceViews ?? new HashSet<Node>(), Pieces = ConcatViews.Pieces(concatViews ?? new HashSet<Node>()) };
        var g = unit.Graph;
        foreach (var n in g.Nodes)
        {
            var t = n.OutputTypes.Count > 0 ? n.Outputs[0] : null;
            if (t is null) continue;
            switch (n.Op)
            {
                case PlaceholderOp:
                    plan.StorageOf[t] = new Storage(StorageKind.Feed, plan.Feeds.Count, t.DType, t.Shape.StaticSize, t.Shape.IsSymbolic);
                    plan.Feeds.Add(n); break;
                case VariableOp:
                    plan.StorageOf[t] = new Storage(StorageKind.Variable, plan.Variables.Count, t.DType, t.Shape.StaticSize, false);
                    plan.Variables.Add(n); break;
                case ConstantOp:
                    plan.StorageOf[t] = new Storage(StorageKind.Constant, plan.Constants.Count, t.DType, t.Shape.StaticSize, false);
                    plan.Constants.Add(n); break;
                default:
                    if (NodeClasses.Of(n) != NodeClass.View) plan.naive.Add(t);
                    break;
            }
        }

        // Values assigned to variables go straight to the variable's second buffer.
        var varIndex = plan.Variables.Select((v, i) => (v, i)).ToDictionary(p => p.v, p => p.i);
        var assigned = new Dictionary<Tensor, int>();
        foreach (var n in g.Nodes.Where(n => n.Op is AssignOp))
        {
            var value = Root(n.Inputs[1]);
            if (kernels.Any(k => k.Outputs.Contains(value)) && !assigned.ContainsKey(value))
                assigned[value] = varIndex[n.Inputs[0].Node];
        }

        // Last use of every storage-bearing tensor, seen through views; a read of a slice in place
        // is a read of its input too (so nothing reuses the input's buffer, in place or not, before).
        var lastUse = new Dictionary<Tensor, int>();
        var fetchedRoots = new HashSet<Tensor>(unit.Fetches.Select(Root));
        for (int k = 0; k < kernels.Count; k++)
            foreach (var n in kernels[k].Nodes)
                foreach (var i in n.Inputs)
                {
                    lastUse[Root(i)] = k;
                    if (Compiler.SliceViews.SliceOf(i, plan.SliceViews) is { } slice) lastUse[Root(slice.Inputs[0])] = k;
                }
        // A concatenation stored piece by piece lives at least until its last piece is written.
        for (int k = 0; k < kernels.Count; k++)
            foreach (var o in kernels[k].Outputs)
                if (plan.Pieces.TryGetValue(o, out var piece))
                    lastUse[piece.Concat.Outputs[0]] = Math.Max(lastUse.GetValueOrDefault(piece.Concat.Outputs[0], k), k);

        var free = new List<Storage>();
        var dying = new Dictionary<int, List<Tensor>>();
        for (int k = 0; k < kernels.Count; k++)
        {
            var kernel = kernels[k];
            bool elementwise = kernel.Kind is NodeClass.Pointwise;
            var inPlaceCandidates = elementwise
                ? kernel.Leaves.Where(l => l.Shape == kernel.Domain).Select(Root).Where(r => !plan.SliceViews.Contains(r.Node) && plan.StorageOf.TryGetValue(r, out var s) && s.Kind == StorageKind.Slot
                    && lastUse.GetValueOrDefault(r, -1) == k && !fetchedRoots.Contains(r) && r.Shape == kernel.Domain).Distinct().ToList()
                : [];
            foreach (var o in kernel.Outputs)
            {
                if (plan.Pieces.TryGetValue(o, out var piece))
                {
                    // Into the concatenation's buffer, made when its first piece is written.
                    var whole = piece.Concat.Outputs[0];
                    if (!plan.StorageOf.TryGetValue(whole, out var wholeSlot))
                        plan.StorageOf[whole] = wholeSlot = assigned.TryGetValue(whole, out int wv)
                            ? new Storage(StorageKind.VariableNext, wv, whole.DType, whole.Shape.StaticSize, false)
                            : FreeOrNewSlot(plan, free, whole);
                    plan.StorageOf[o] = wholeSlot;
                    lastUse.TryAdd(o, k);
                    continue;
                }
                if (assigned.TryGetValue(o, out int vi))
                {
                    plan.StorageOf[o] = new Storage(StorageKind.VariableNext, vi, o.DType, o.Shape.StaticSize, false);
                    continue;
                }
                Storage? slot = null;
                // In place: an input of this elementwise kernel that dies here (or the anchor's output for an epilogue).
                var inPlace = inPlaceCandidates.FirstOrDefault(r => Fits(plan.StorageOf[r], o) && o.Shape == kernel.Domain);
                if (inPlace is not null && kernel.Anchor is null) { slot = plan.StorageOf[inPlace]; inPlaceCandidates.Remove(inPlace); }
                else if (kernel.Anchor is { } a && o != a.Outputs[0] && o.Shape == kernel.Domain && plan.StorageOf.TryGetValue(a.Outputs[0], out var anchorSlot)
                         && anchorSlot.Kind == StorageKind.Slot && lastUse.GetValueOrDefault(a.Outputs[0], k) == k && !fetchedRoots.Contains(a.Outputs[0]) && Fits(anchorSlot, o)
                         && !kernel.Outputs.Take(kernel.Outputs.ToList().IndexOf(o)).Any(p => p != a.Outputs[0] && plan.StorageOf.GetValueOrDefault(p) == anchorSlot))
                    slot = anchorSlot;
                else slot = FreeOrNewSlot(plan, free, o);
                plan.StorageOf[o] = slot;
                if (!lastUse.ContainsKey(o) && !fetchedRoots.Contains(o)) lastUse[o] = k; // written, never read: dies at once
            }
            // Views take their source's storage (a slice read in place, its input's).
            foreach (var n in g.Nodes)
            {
                if (n.OutputTypes.Count == 0 || plan.StorageOf.ContainsKey(n.Outputs[0])) continue;
                var source = plan.SliceViews.Contains(n) ? Root(n.Inputs[0]) : NodeClasses.Of(n) == NodeClass.View ? Root(n.Outputs[0]) : null;
                if (source is not null && plan.StorageOf.TryGetValue(source, out var vs)) plan.StorageOf[n.Outputs[0]] = vs;
            }
            // Free slots whose tensors die at this kernel.
            var live = new HashSet<Storage>(plan.StorageOf.Where(kv => kv.Value.Kind == StorageKind.Slot && (lastUse.GetValueOrDefault(kv.Key, -1) > k || fetchedRoots.Contains(kv.Key))).Select(kv => kv.Value));
            foreach (var s in plan.Slots)
                if (!live.Contains(s) && !free.Contains(s) && plan.StorageOf.Any(kv => kv.Value == s && lastUse.GetValueOrDefault(kv.Key, -1) <= k))
                    free.Add(s);
        }
        foreach (var kv in plan.StorageOf.Where(kv => kv.Value.Kind == StorageKind.Slot && kv.Key.Node.Op is not (ReshapeOp or GroupOp or AssignOp)
                     && !plan.SliceViews.Contains(kv.Key.Node) && !plan.Pieces.ContainsKey(kv.Key)))
        {
            // A concatenation stored in place is defined where its first piece is written.
            int def = kernels.FindIndex(k => k.Outputs.Any(o => o == kv.Key || plan.Pieces.TryGetValue(o, out var p) && p.Concat.Outputs[0] == kv.Key));
            plan.Lifetimes.Add((kv.Key, kv.Value, def, fetchedRoots.Contains(kv.Key) ? kernels.Count : lastUse.GetValueOrDefault(kv.Key, def)));
        }
        return plan;
    }

    private static Storage FreeOrNewSlot(MemoryPlan plan, List<Storage> free, Tensor t)
    {
        var slot = free.FirstOrDefault(s => Fits(s, t));
        if (slot is not null) { free.Remove(slot); return slot; }
        slot = new Storage(StorageKind.Slot, plan.Slots.Count, t.DType, t.Shape.StaticSize, t.Shape.IsSymbolic);
        plan.Slots.Add(slot);
        return slot;
    }

    private static bool Fits(Storage s, Tensor t) =>
        s.Kind == StorageKind.Slot && s.DType == t.DType && s.StaticSize == t.Shape.StaticSize && s.Symbolic == t.Shape.IsSymbolic;

    /// <summary>The tensor whose storage a view uses.</summary>
    public static Tensor Root(Tensor t) => t.Node.Op switch
    {
        ReshapeOp or GroupOp => Root(t.Node.Inputs[0]),
        AssignOp => Root(t.Node.Inputs[1]),
        _ => t,
    };

    /// <summary>The most bytes of values alive at once, and the kernel where that happens.</summary>
    public (long Bytes, int Kernel) PeakLive(int batch)
    {
        int last = Lifetimes.Count == 0 ? 0 : Lifetimes.Max(l => l.LastUse);
        (long, int) peak = (0, 0);
        for (int k = 0; k <= last; k++)
        {
            long live = Lifetimes.Where(l => l.Def <= k && k <= l.LastUse).Sum(l => l.Tensor.Shape.StaticSize * (l.Tensor.Shape.IsSymbolic ? batch : 1) * l.Tensor.DType.SizeInBytes());
            if (live > peak.Item1) peak = (live, k);
        }
        return peak;
    }

    public string Report(int batch)
    {
        var sb = new StringBuilder();
        var (peak, at) = PeakLive(batch);
        sb.AppendLine($"arena {ArenaBytes(batch):N0} bytes in {Slots.Count} buffers; naive {NaiveBytes(batch):N0} bytes; peak live {peak:N0} bytes at kernel {at} (batch {batch})");
        foreach (var (t, s, def, last) in Lifetimes.OrderBy(l => l.Def))
            sb.AppendLine($"  buffer {s.Index} ({s.DType.ShortName()}, {s.Elements(batch):N0} elements): %{t.Node.Id} '{t.Name}' {t.Type} live kernels {def}..{last}");
        return sb.ToString();
    }
}
