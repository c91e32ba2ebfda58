using System.Runtime.CompilerServices;
namespace GraphNet.Compiler;

/// <summary>
/// What the compiler's stages made of a graph, in binary: the optimized unit (its graph, scan
/// bodies included), the fusion plan, the kernels and the memory plan, with the key of the
/// generated assembly. The compile cache keeps it beside that assembly under the key of the
/// graph before the passes (<see cref="InputKey"/>), so a hit in a fresh process skips every
/// stage but loading. Nodes are named by id within their graph; source lines and forward nodes
/// by position among the user's nodes (<see cref="InputKey.Provenance"/>), so the restored plan
/// reports the user's current lines. Its methods are compiled fully optimized at once
/// (AggressiveOptimization): a fresh process runs each of them once, over tens of thousands of
/// nodes, long before tiered compilation would have optimized them.
/// </summary>
internal static class PlanFile
{
    private const string Magic = "graphnet-plan";
    /// <summary>Changes whenever the layout below does (the compiler's version is checked too).</summary>
    private const int FormatVersion = 1;

    public sealed record Contents(string CodeKey, Unit Unit, FusionPlan Fusion, List<Kernel> Kernels, MemoryPlan Memory);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static byte[] Write(Compilation c, InputKey key)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream))
            new Writer(w, key).Plan(c);
        return stream.ToArray();
    }

    /// <summary>The plan, or an <see cref="InvalidDataException"/> saying why the bytes are not one for this key.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Contents Read(byte[] bytes, InputKey key)
    {
        try
        {
            using var r = new BinaryReader(new MemoryStream(bytes));
            return new Reader(r, key).Plan();
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or ArgumentException or InvalidOperationException
            or IndexOutOfRangeException or KeyNotFoundException or GraphException or System.Reflection.TargetInvocationException
            or FormatException or OverflowException)
        {
            var why = (e as System.Reflection.TargetInvocationException)?.InnerException?.Message ?? e.Message;
            throw new InvalidDataException($"corrupt plan ({e.GetType().Name}: {why})", e);
        }
    }

    private sealed class Writer(BinaryWriter writer, InputKey key) : OpCodec.Writer(writer, key.Provenance.Count)
    {
        private readonly Dictionary<Node, int> position = Positions(key.Provenance);
        private readonly Dictionary<SourceLocation, int> sourceAt = Sources(key.Provenance);
        private readonly Dictionary<ScanBody, int> bodies = [];

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static Dictionary<Node, int> Positions(List<Node> nodes)
        {
            var d = new Dictionary<Node, int>(nodes.Count);
            for (int i = 0; i < nodes.Count; i++) d.TryAdd(nodes[i], i);
            return d;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static Dictionary<SourceLocation, int> Sources(List<Node> nodes)
        {
            var d = new Dictionary<SourceLocation, int>();
            for (int i = 0; i < nodes.Count; i++) d.TryAdd(nodes[i].Source, i);
            return d;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Plan(Compilation c)
        {
            W.Write(Magic); W.Write(FormatVersion); W.Write(Compilation.Version); W.Write(key.Key); W.Write(c.Report.CacheKey);
            var unit = c.Unit;
            Graph(unit.Graph);
            Tensors(unit.Fetches); Tensors(unit.Feeds);
            Fusion(c.Fusion);
            W.Write(c.Kernels.Count);
            foreach (var k in c.Kernels) Kernel(k);
            Memory(c.Memory);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Graph(Graph g)
        {
            String(g.Name); W.Write(g.Seed); W.Write(g.Nodes.Count);
            foreach (var n in g.Nodes)
            {
                // Nodes are named by id, which the reader's graph gives by position.
                if (n.Id >= g.Nodes.Count || g.Nodes[n.Id] != n)
                    throw new NotSupportedException($"{n} of graph '{g.Name}' is not at its id's position");
                Op(n.Op);
                Tensors(n.Inputs);
                W.Write(n.OutputTypes.Count);
                foreach (var t in n.OutputTypes) Type(t);
                String(n.Name);
                if (sourceAt.TryGetValue(n.Source, out int s)) W.Write(s);
                else { W.Write(-1); String(n.Source.File); W.Write(n.Source.Line); }
                W.Write(n.ForwardOf is { } f && position.TryGetValue(f, out int p) ? p : -1);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        protected override void Body(ScanBody body)
        {
            if (bodies.TryGetValue(body, out int index)) { W.Write(index); return; }
            W.Write(bodies[body] = bodies.Count);
            Graph(body.Graph);
            foreach (var list in new[] { body.Carries, body.Xs, body.Captures, body.CarryOut, body.Ys }) Tensors(list);
        }

        private void Tensor(Tensor t) { W.Write(t.Node.Id); W.Write(t.Index); }
        private void OptionalTensor(Tensor? t) { W.Write(t is not null); if (t is not null) Tensor(t); }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Tensors(IReadOnlyCollection<Tensor> ts)
        {
            W.Write(ts.Count);
            foreach (var t in ts) Tensor(t);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Nodes(IEnumerable<Node> nodes)
        {
            var list = nodes as IReadOnlyCollection<Node> ?? nodes.ToList();
            W.Write(list.Count);
            foreach (var n in list) W.Write(n.Id);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void OptionalNode(Node? n) => W.Write(n?.Id ?? -1);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Fusion(FusionPlan f)
        {
            W.Write(f.Groups.Count);
            foreach (var g in f.Groups)
            {
                W.Write(g.Id); OpCodec.WriteInts(W, [.. g.Domain.Dims]); OptionalNode(g.Anchor); Nodes(g.Prologue); Nodes(g.Pointwise);
            }
            var groupIndex = new Dictionary<FusionGroup, int>();
            for (int i = 0; i < f.Groups.Count; i++) groupIndex[f.Groups[i]] = i;
            W.Write(f.GroupOf.Count);
            foreach (var (n, g) in f.GroupOf) { W.Write(n.Id); W.Write(groupIndex[g]); }
            W.Write(f.Decisions.Count);
            foreach (var d in f.Decisions) { W.Write(d.Node.Id); W.Write(d.Group); String(d.Reason); }
            Nodes(f.SliceViews); Nodes(f.ConcatViews);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Kernel(Kernel k)
        {
            String(k.Name); OptionalNode(k.Anchor); Nodes(k.Prologue); Nodes(k.Epilogue); OpCodec.WriteInts(W, [.. k.Domain.Dims]);
            Tensors(k.Leaves); Tensors(k.Outputs);
            W.Write(k.Absorbed is not null);
            if (k.Absorbed is { } a) { Nodes(a.Nodes); OptionalTensor(a.Bias); W.Write(a.Relu); Tensor(a.Result); }
        }

        private readonly Dictionary<Storage, int> storages = [];

        /// <summary>A storage, whole on first use and by number after that (many tensors share one).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Storage(Storage s)
        {
            if (Numbered(storages, s)) return;
            W.Write((int)s.Kind); W.Write(s.Index); W.Write((int)s.DType); W.Write(s.StaticSize); W.Write(s.Symbolic);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Memory(MemoryPlan m)
        {
            W.Write(m.StorageOf.Count);
            foreach (var (t, s) in m.StorageOf) { Tensor(t); Storage(s); }
            W.Write(m.Slots.Count);
            foreach (var s in m.Slots) Storage(s);
            Nodes(m.Feeds); Nodes(m.Variables); Nodes(m.Constants);
            W.Write(m.Lifetimes.Count);
            foreach (var (t, s, def, last) in m.Lifetimes) { Tensor(t); Storage(s); W.Write(def); W.Write(last); }
            Tensors(m.Naive);
        }
    }

    private sealed class Reader(BinaryReader reader, InputKey key) : OpCodec.Reader(reader)
    {
        private readonly List<ScanBody> bodies = [];
        private IReadOnlyList<Node> nodes = [];

        private static InvalidDataException Bad(string why) => new(why);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public Contents Plan()
        {
            if (R.ReadString() != Magic) throw Bad("not a plan");
            if (R.ReadInt32() is var format and not FormatVersion) throw Bad($"plan format {format}, this compiler reads {FormatVersion}");
            if (R.ReadString() is var version && version != Compilation.Version)
                throw Bad($"stale plan (compiler version {version}, now {Compilation.Version})");
            if (R.ReadString() is var stored && stored != key.Key) throw Bad($"plan of another key ({stored[..Math.Min(12, stored.Length)]}...)");
            string codeKey = R.ReadString();
            var graph = Graph();
            nodes = graph.Nodes;
            var unit = new Unit(graph, Tensors(), Tensors());
            var fusion = Fusion();
            var kernels = new List<Kernel>(Count());
            for (int i = kernels.Capacity; i > 0; i--) kernels.Add(Kernel(kernels.Count));
            var memory = Memory(fusion);
            if (R.BaseStream.Position != R.BaseStream.Length) throw Bad("bytes after the plan's end");
            return new Contents(codeKey, unit, fusion, kernels, memory);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private int Count()
        {
            int n = R.ReadInt32();
            return n >= 0 && n <= R.BaseStream.Length ? n : throw Bad($"a count of {n}");
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private Graph Graph()
        {
            string graphName = String();
            var g = new Graph(R.ReadInt32()) { Name = graphName };
            int count = Count();
            for (int i = 0; i < count; i++)
            {
                var op = Op();
                var inputs = TensorsOf(g.Nodes);
                var types = new TensorType[Count()];
                for (int t = 0; t < types.Length; t++) types[t] = Type();
                string name = String();
                int s = R.ReadInt32();
                var source = s >= 0 ? key.Provenance[s].Source : new SourceLocation(String(), R.ReadInt32());
                int f = R.ReadInt32();
                g.AddRestored(op, inputs, types, name, source, f >= 0 ? key.Provenance[f] : null);
            }
            return g;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        protected override ScanBody Body()
        {
            int index = R.ReadInt32();
            if (index < bodies.Count) return bodies[index];
            if (index != bodies.Count) throw Bad($"scan body {index} out of order");
            var g = Graph();
            var lists = Enumerable.Range(0, 5).Select(_ => TensorsOf(g.Nodes)).ToArray();
            var body = new ScanBody(g, lists[0], lists[1], lists[2], lists[3], lists[4]);
            bodies.Add(body);
            return body;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private Tensor[] TensorsOf(IReadOnlyList<Node> of)
        {
            var ts = new Tensor[Count()];
            for (int i = 0; i < ts.Length; i++) ts[i] = of[R.ReadInt32()].Outputs[R.ReadInt32()];
            return ts;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private Tensor[] Tensors() => TensorsOf(nodes);
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private Tensor Tensor() => nodes[R.ReadInt32()].Outputs[R.ReadInt32()];
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private Tensor? OptionalTensor() => R.ReadBoolean() ? Tensor() : null;
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private Node? OptionalNode() => R.ReadInt32() is var id and >= 0 ? nodes[id] : null;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private List<Node> Nodes()
        {
            var list = new List<Node>(Count());
            for (int i = list.Capacity; i > 0; i--) list.Add(nodes[R.ReadInt32()]);
            return list;
        }

        private Shape Shape() => new(OpCodec.ReadInts(R));

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private FusionPlan Fusion()
        {
            var f = new FusionPlan();
            for (int i = Count(); i > 0; i--)
            {
                int id = R.ReadInt32();
                var g = new FusionGroup(id, Shape(), OptionalNode());
                g.Prologue.AddRange(Nodes()); g.Pointwise.AddRange(Nodes());
                f.Groups.Add(g);
            }
            for (int i = Count(); i > 0; i--) f.GroupOf[nodes[R.ReadInt32()]] = f.Groups[R.ReadInt32()];
            for (int i = Count(); i > 0; i--) f.Decisions.Add(new FusionDecision(nodes[R.ReadInt32()], R.ReadInt32(), String()));
            f.SliceViews.UnionWith(Nodes()); f.ConcatViews.UnionWith(Nodes());
            return f;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private Kernel Kernel(int index)
        {
            string name = String();
            var anchor = OptionalNode();
            var (prologue, epilogue, domain, leaves, outputs) = (Nodes(), Nodes(), Shape(), Tensors(), Tensors());
            AbsorbedEpilogue? absorbed = null;
            if (R.ReadBoolean()) absorbed = new AbsorbedEpilogue(Nodes(), OptionalTensor(), R.ReadBoolean(), Tensor());
            return new Kernel
            {
                Index = index, Name = name, Anchor = anchor, Prologue = prologue, Epilogue = epilogue, Domain = domain,
                Leaves = leaves, Outputs = outputs, Absorbed = absorbed,
            };
        }

        private readonly List<Storage> storages = [];

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private Storage Storage() => Numbered(storages,
            () => new Storage((StorageKind)R.ReadInt32(), R.ReadInt32(), (DType)R.ReadInt32(), R.ReadInt64(), R.ReadBoolean()), "storage");

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private MemoryPlan Memory(FusionPlan fusion)
        {
            var m = MemoryPlan.Restored(fusion.SliceViews, fusion.ConcatViews);
            for (int i = Count(); i > 0; i--) m.StorageOf[Tensor()] = Storage();
            for (int i = Count(); i > 0; i--) m.Slots.Add(Storage());
            m.Feeds.AddRange(Nodes()); m.Variables.AddRange(Nodes()); m.Constants.AddRange(Nodes());
            for (int i = Count(); i > 0; i--) m.Lifetimes.Add((Tensor(), Storage(), R.ReadInt32(), R.ReadInt32()));
            m.Naive.AddRange(Tensors());
            return m;
        }
    }
}
