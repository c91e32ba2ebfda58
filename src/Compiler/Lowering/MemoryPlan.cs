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
    public long NaiveBytes(int batch) => Naive.Sum(t => Size(t.Type, batch));
    public long ArenaBytes(int batch) => Slots.Sum(s => s.Elements(batch) * s.DType.SizeInBytes());

    /// <summary>Every computed value, as if each had a buffer of its own (the report's comparison).</summary>
    internal List<Tensor> Naive { get; } = [];

    /// <summary>An empty plan with these views, for the compile cache to fill (see <see cref="PlanFile"/>).</summary>
    internal static MemoryPlan Restored(IReadOnlySet<Node> sliceViews, IReadOnlySet<Node> concatViews) =>
        new() { SliceViews = sliceViews, Pieces = ConcatViews.Pieces(concatViews) };

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
                    if (NodeClasses.Of(n) != NodeClass.View) plan.Naive.Add(t);
                    break;
            }
        }

        // Values assigned to variables go straight to the variable's second buffer.
        var varIndex = plan.Variables.Select((v, i) => (v, i)).ToDictionary(p => p.v, p => p.i);
        var assigned = new Dictionary<Tensor, int>();
        var computed = kernels.SelectMany(k => k.Outputs).ToHashSet();
        foreach (var n in g.Nodes.Where(n => n.Op is AssignOp))
        {
            var value = Root(n.Inputs[1]);
            if (computed.Contains(value) && !assigned.ContainsKey(value))
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

        // Each slot is busy until the last use of any tensor stored in it: a slot whose tensors all
        // die at kernel k is free for the kernels after k (one pass over the schedule, no rescans).
        var free = new FreeSlots();
        var busyUntil = new Dictionary<Storage, int>();
        var freesAt = new List<Storage>?[kernels.Count];
        int current = 0;
        // Views take their source's storage (a slice read in place, its input's) as soon as the source has one.
        var viewsOf = new Dictionary<Tensor, List<Tensor>>();
        foreach (var n in g.Nodes)
        {
            if (n.OutputTypes.Count == 0 || plan.StorageOf.ContainsKey(n.Outputs[0])) continue;
            var source = plan.SliceViews.Contains(n) ? Root(n.Inputs[0]) : NodeClasses.Of(n) == NodeClass.View ? Root(n.Outputs[0]) : null;
            if (source is not null && source != n.Outputs[0]) (viewsOf.TryGetValue(source, out var l) ? l : viewsOf[source] = []).Add(n.Outputs[0]);
        }
        void Store(Tensor t, Storage s)
        {
            plan.StorageOf[t] = s;
            if (s.Kind == StorageKind.Slot)
            {
                int until = fetchedRoots.Contains(t) ? int.MaxValue : lastUse.GetValueOrDefault(t, -1);
                if (!busyUntil.TryGetValue(s, out int was) || was < until)
                {
                    busyUntil[s] = until;
                    if (until != int.MaxValue) (freesAt[Math.Max(until, current)] ??= []).Add(s);
                }
            }
            if (viewsOf.TryGetValue(t, out var views))
                foreach (var v in views)
                    if (!plan.StorageOf.ContainsKey(v)) Store(v, s);
        }
        foreach (var (t, s) in plan.StorageOf.ToList()) Store(t, s);
        // The kernel each tensor is defined at (a concatenation stored in place: where its first piece is written).
        var definedAt = new Dictionary<Tensor, int>();

        for (int k = 0; k < kernels.Count; k++)
        {
            current = k;
            var kernel = kernels[k];
            bool elementwise = kernel.Kind is NodeClass.Pointwise;
            var inPlaceCandidates = elementwise
                ? kernel.Leaves.Where(l => l.Shape == kernel.Domain).Select(Root).Where(r => !plan.SliceViews.Contains(r.Node) && plan.StorageOf.TryGetValue(r, out var s) && s.Kind == StorageKind.Slot
                    && lastUse.GetValueOrDefault(r, -1) == k && !fetchedRoots.Contains(r) && r.Shape == kernel.Domain).Distinct().ToList()
                : [];
            foreach (var o in kernel.Outputs)
            {
                definedAt.TryAdd(o, k);
                if (plan.Pieces.TryGetValue(o, out var piece))
                {
                    // Into the concatenation's buffer, made when its first piece is written.
                    var whole = piece.Concat.Outputs[0];
                    definedAt.TryAdd(whole, k);
                    if (!plan.StorageOf.TryGetValue(whole, out var wholeSlot))
                    {
                        wholeSlot = assigned.TryGetValue(whole, out int wv)
                            ? new Storage(StorageKind.VariableNext, wv, whole.DType, whole.Shape.StaticSize, false)
                            : free.Take(whole) ?? NewSlot(plan, whole);
                        Store(whole, wholeSlot);
                    }
                    lastUse.TryAdd(o, k);
                    Store(o, wholeSlot);
                    continue;
                }
                if (assigned.TryGetValue(o, out int vi))
                {
                    Store(o, new Storage(StorageKind.VariableNext, vi, o.DType, o.Shape.StaticSize, false));
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
                else slot = free.Take(o) ?? NewSlot(plan, o);
                if (!lastUse.ContainsKey(o) && !fetchedRoots.Contains(o)) lastUse[o] = k; // written, never read: dies at once
                Store(o, slot);
            }
            // Free slots whose tensors all die at this kernel, in slot order.
            if (freesAt[k] is { } dying)
                foreach (var s in dying.Distinct().OrderBy(s => s.Index))
                    if (busyUntil[s] <= k) free.Add(s);
        }
        foreach (var kv in plan.StorageOf.Where(kv => kv.Value.Kind == StorageKind.Slot && kv.Key.Node.Op is not (ReshapeOp or GroupOp or AssignOp)
                     && !plan.SliceViews.Contains(kv.Key.Node) && !plan.Pieces.ContainsKey(kv.Key)))
        {
            int def = definedAt.GetValueOrDefault(kv.Key, -1);
            plan.Lifetimes.Add((kv.Key, kv.Value, def, fetchedRoots.Contains(kv.Key) ? kernels.Count : lastUse.GetValueOrDefault(kv.Key, def)));
        }
        return plan;
    }

    private static Storage NewSlot(MemoryPlan plan, Tensor t)
    {
        var slot = new Storage(StorageKind.Slot, plan.Slots.Count, t.DType, t.Shape.StaticSize, t.Shape.IsSymbolic);
        plan.Slots.Add(slot);
        return slot;
    }

    /// <summary>Free slots by element type and size, each kind in the order the slots came free.</summary>
    private sealed class FreeSlots
    {
        private readonly Dictionary<(DType, long, bool), List<Storage>> byKind = [];
        private readonly HashSet<Storage> all = [];

        public void Add(Storage s)
        {
            if (!all.Add(s)) return;
            var key = (s.DType, s.StaticSize, s.Symbolic);
            (byKind.TryGetValue(key, out var l) ? l : byKind[key] = []).Add(s);
        }

        /// <summary>The first free slot that fits <paramref name="t"/>, taken, or null.</summary>
        public Storage? Take(Tensor t)
        {
            if (!byKind.TryGetValue((t.DType, t.Shape.StaticSize, t.Shape.IsSymbolic), out var l) || l.Count == 0) return null;
            var s = l[0];
            l.RemoveAt(0);
            all.Remove(s);
            return s;
        }
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
