using System.Globalization;
using System.Text;

namespace GraphNet.Compiler.Backends.Ilgpu;

/// <summary>
/// Emits one grid-strided ILGPU kernel over a domain: an argument struct (buffer views, the
/// batch size, the element count and the launch extent as the stride) and a static kernel
/// method that evaluates the pointwise nodes element by element and stores the outputs, or, for
/// a reduction, has each thread reduce one output element over the reduced axes.
/// </summary>
internal sealed class DeviceLoopEmitter
{
    private readonly string name, T;
    private readonly Shape domain;
    private readonly IReadOnlyList<Node> nodes;
    private readonly HashSet<Node> local;
    private readonly IReadOnlyList<Tensor> stores;
    private readonly Func<Tensor, int> storage;
    private readonly LoopLeaves leaves;
    /// <summary>Per store, its layout when it is written in place into a larger buffer (a piece of a concatenation), else null.</summary>
    private readonly LeafView?[] storeViews;

    public DeviceLoopEmitter(string name, string elementType, Shape domain, IReadOnlyList<Node> nodes, IReadOnlyList<Tensor> stores, Func<Tensor, int> storage,
        Func<Tensor, LeafView?> viewOf, Tensor? extraLeaf = null)
    {
        (this.name, T, this.domain, this.nodes, this.stores, this.storage) = (name, elementType, domain, nodes, stores, storage);
        leaves = new LoopLeaves(domain, nodes, extraLeaf, viewOf);
        local = leaves.Local;
        storeViews = stores.Select(viewOf).ToArray();
    }

    /// <summary>The element type of a tensor on the device (bool is stored as a byte).</summary>
    public static string DeviceType(DType t) => t switch
    {
        DType.Float32 => "float", DType.Float64 => "double", DType.Bool => "byte", DType.Int64 => "long", DType.Int32 => "int",
        _ => throw new NotSupportedException($"the ILGPU backend has no device type for {t}"),
    };

    /// <summary>The DeviceContext accessor of a dtype's buffer views.</summary>
    public static string Accessor(DType t) => t switch
    {
        DType.Float32 => "F32", DType.Float64 => "F64", DType.Bool => "U8", DType.Int64 => "I64", DType.Int32 => "I32",
        _ => throw new NotSupportedException($"the ILGPU backend has no device type for {t}"),
    };

    private static string Dim(int d) => Shape.Expr(d, "a.N");
    private static string HostDim(int d) => Shape.Expr(d);

    private string Literal(double v) => T == "float"
        ? ((float)v).ToString("R", CultureInfo.InvariantCulture) + "f"
        : v.ToString("R", CultureInfo.InvariantCulture) + "d";

    /// <summary>The argument struct and the kernel method. reduce: the reduction, whose root value is accumulated.</summary>
    public string EmitKernel(ReduceOp? reduce, Tensor? root)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"    public struct {name}Args");
        sb.AppendLine("    {");
        for (int i = 0; i < leaves.Count; i++) sb.AppendLine($"        public ArrayView<{DeviceType(leaves[i].T.DType)}> L{i};");
        for (int k = 0; k < stores.Count; k++) sb.AppendLine($"        public ArrayView<{DeviceType(stores[k].DType)}> O{k};");
        sb.AppendLine($"        public int N, Size, Stride, R; public {T} Inv;");
        foreach (var n in nodes)
            switch (n.Op)
            {
                case DropoutOp: sb.AppendLine($"        public ulong Key{n.Id}; public int Train{n.Id};"); break;
                case OneHotOp: sb.AppendLine($"        public ArrayView<long> Lab{n.Id};"); break;
                case CountOfOp: sb.AppendLine($"        public {T} Count{n.Id};"); break;
            }
        sb.AppendLine("    }");
        sb.AppendLine();
        sb.AppendLine($"    private static void {name}(Index1D t, {name}Args a)");
        sb.AppendLine("    {");
        if (reduce is null)
        {
            sb.AppendLine("        for (int e = t; e < a.Size; e += a.Stride)");
            sb.AppendLine("        {");
            if (leaves.Items.Any(l => l.Kind is LeafKind.Broadcast or LeafKind.Strided) || storeViews.Any(v => v is not null))
                Coordinates(sb, "            ", "e", Enumerable.Range(0, domain.Rank));
            EmitBody(sb, "            ");
            for (int k = 0; k < stores.Count; k++)
                sb.AppendLine($"            a.O{k}[{(storeViews[k] is { } v ? StridedOffset(v) : "e")}] = {Store(stores[k], Value(stores[k]))};");
            sb.AppendLine("        }");
        }
        else EmitReduction(sb, reduce, root!);
        sb.AppendLine("    }");
        return sb.ToString();
    }

    private void EmitReduction(StringBuilder sb, ReduceOp r, Tensor root)
    {
        var axes = r.NormalizedAxes(domain.Rank);
        var kept = Enumerable.Range(0, domain.Rank).Where(d => !axes.Contains(d));
        string init = r.Kind switch { ReduceKind.Max => $"{T}.NegativeInfinity", ReduceKind.Min => $"{T}.PositiveInfinity", _ => $"({T})0" };
        string O = T == "float" ? "DeviceOps32" : "DeviceOps64";
        // Max and min propagate NaN (the device handler's), as every other backend's reductions.
        string combine(string x, string y) => r.Kind switch
        {
            ReduceKind.Max => $"{O}.Max({x}, {y})", ReduceKind.Min => $"{O}.Min({x}, {y})", _ => $"{x} + {y}",
        };
        sb.AppendLine("        for (int o = t; o < a.Size; o += a.Stride)");
        sb.AppendLine("        {");
        Coordinates(sb, "            ", "o", kept);
        sb.AppendLine($"            {T} acc = {init};");
        sb.AppendLine("            for (int r = 0; r < a.R; r++)");
        sb.AppendLine("            {");
        Coordinates(sb, "                ", "r", axes);
        var strides = Strides(domain);
        sb.AppendLine($"                int e = {string.Join(" + ", Enumerable.Range(0, domain.Rank).Select(d => $"c{d} * {strides[d]}").DefaultIfEmpty("0"))};");
        EmitBody(sb, "                ");
        sb.AppendLine($"                acc = {combine("acc", Value(root))};");
        sb.AppendLine("            }");
        sb.AppendLine($"            a.O0[o] = {(r.Kind == ReduceKind.Mean ? "acc * a.Inv" : "acc")};");
        sb.AppendLine("        }");
    }

    /// <summary>Row-major strides of a shape, as expressions (the batch dimension is a.N).</summary>
    private static string[] Strides(Shape s)
    {
        var st = new string[s.Rank];
        string acc = "1";
        for (int d = s.Rank - 1; d >= 0; d--) { st[d] = acc; acc = acc == "1" ? Dim(s[d]) : $"{acc} * {Dim(s[d])}"; }
        return st;
    }

    /// <summary>Splits a flat index over the given dimensions of the domain into coordinates c{d}.</summary>
    private void Coordinates(StringBuilder sb, string ind, string flat, IEnumerable<int> dims)
    {
        var ds = dims.ToList();
        if (ds.Count == 0) return;
        string q = "q" + flat;
        sb.AppendLine($"{ind}int {q} = {flat};");
        for (int i = ds.Count - 1; i > 0; i--) sb.AppendLine($"{ind}int c{ds[i]} = {q} % {Dim(domain[ds[i]])}; {q} /= {Dim(domain[ds[i]])};");
        sb.AppendLine($"{ind}int c{ds[0]} = {q};");
    }

    private void EmitBody(StringBuilder sb, string ind)
    {
        for (int i = 0; i < leaves.Count; i++)
            if (leaves[i].Kind == LeafKind.Broadcast) sb.AppendLine($"{ind}int off{i} = {BroadcastOffset(leaves[i].T.Shape)};");
            else if (leaves[i].Kind == LeafKind.Strided) sb.AppendLine($"{ind}int off{i} = {StridedOffset(leaves.Views[leaves[i].T])};");
        foreach (var n in nodes) sb.AppendLine($"{ind}var v{n.Id} = {Expr(n)};");
    }

    /// <summary>A strided leaf's element offset (a slice read in place): its first element plus the coordinates times its strides.</summary>
    private static string StridedOffset(LeafView v) =>
        string.Join(" + ", new[] { v.Offset.ToString(CultureInfo.InvariantCulture) }.Concat(v.Strides.Select((s, d) => $"c{d} * {s.ToString(CultureInfo.InvariantCulture)}")));

    /// <summary>A broadcast leaf's element offset from the domain's coordinates (numpy alignment: trailing dimensions match).</summary>
    private string BroadcastOffset(Shape s)
    {
        var terms = new List<string>();
        var st = Strides(s);
        for (int j = 0; j < s.Rank; j++)
        {
            int d = domain.Rank - s.Rank + j;
            if (s[j] == 1 && domain[d] != 1) continue;
            terms.Add($"c{d} * {st[j]}");
        }
        return terms.Count == 0 ? "0" : string.Join(" + ", terms);
    }

    private string Store(Tensor t, string v) => t.DType == DType.Bool ? $"(byte)({v} ? 1 : 0)" : v;

    private string Value(Tensor t)
    {
        if (local.Contains(t.Node)) return $"v{t.Node.Id}";
        int i = leaves.IndexOf(t);
        string read = leaves[i].Kind switch { LeafKind.Full => $"a.L{i}[e]", LeafKind.Scalar => $"a.L{i}[0]", _ => $"a.L{i}[off{i}]" };
        return t.DType == DType.Bool ? $"({read} != 0)" : read;
    }

    private string Expr(Node n)
    {
        string X(int k) => Value(n.Inputs[k]);
        // The device handler: the table's formulas reach the GPU as the same code every backend runs.
        string O = T == "float" ? "DeviceOps32" : "DeviceOps64";
        switch (n.Op)
        {
            case UnaryOp u: return $"{O}.Unary<{LoopLeaves.Formula(u.Fn.Formula)}>({X(0)}, {(u.Fn.ParamName is null ? "0" : Literal(u.Param))})";
            case BinaryOp b:
                return $"{O}.Binary<{LoopLeaves.Formula(b.Fn.Formula)}>({X(0)}, {X(1)}, {(b.Fn.ParamName is null ? "0" : Literal(b.Param))})";
            case CompareOp c: return $"{O}.{c.Kind}({X(0)}, {X(1)})";
            case WhereOp: return $"{O}.Select({X(0)}, {X(1)}, {X(2)})";
            case CastOp c when c.To == DType.Bool: return $"({X(0)} != ({T})0)";
            case CastOp when n.Inputs[0].DType == DType.Bool: return $"({X(0)} ? ({T})1 : ({T})0)";
            case CastOp: return $"({T})({X(0)})";
            case BroadcastLikeOp: return X(0);
            case CountOfOp: return $"a.Count{n.Id}";
            case DropoutOp d:
                string rate = ((float)d.Rate).ToString("R", CultureInfo.InvariantCulture) + "f";
                return $"(a.Train{n.Id} != 0 ? {X(0)} * DropoutOp.Factor<{T}>(a.Key{n.Id}, e, {rate}, {Literal(1 / (1 - d.Rate))}) : {X(0)})";
            case OneHotOp o: return $"(a.Lab{n.Id}[e / {o.Depth}] == e % {o.Depth} ? ({T})1 : ({T})0)";
            default: throw new NotSupportedException($"the ILGPU backend cannot put {n.Op.Name} in a kernel");
        }
    }

    /// <summary>Host statements that fill the arguments and launch the kernel (inside a method with c and N in scope).</summary>
    public string EmitLaunch(string field, string size, ReduceOp? reduce)
    {
        var sb = new StringBuilder();
        sb.AppendLine("        {");
        sb.AppendLine($"            var a = new {name}Args {{ N = N }};");
        for (int i = 0; i < leaves.Count; i++) sb.AppendLine($"            a.L{i} = c.{Accessor(leaves[i].T.DType)}({storage(leaves[i].T)});");
        for (int k = 0; k < stores.Count; k++) sb.AppendLine($"            a.O{k} = c.{Accessor(stores[k].DType)}({storage(stores[k])});");
        foreach (var n in nodes)
            switch (n.Op)
            {
                case DropoutOp d:
                    sb.AppendLine($"            a.Key{n.Id} = c.DropoutKey({d.Seed}); a.Train{n.Id} = c.ReadBool({storage(n.Inputs[1])}) ? 1 : 0;");
                    break;
                case OneHotOp oh:
                    sb.AppendLine($"            a.Lab{n.Id} = c.I64({storage(n.Inputs[0])}); c.CheckLabels({storage(n.Inputs[0])}, {oh.Depth});");
                    break;
                case CountOfOp co:
                    var s = n.Inputs[0].Shape;
                    sb.AppendLine($"            a.Count{n.Id} = ({T})({string.Join(" * ", co.Axes.Select(x => HostDim(s[x])).DefaultIfEmpty("1"))});");
                    break;
            }
        if (reduce is not null)
        {
            var axes = reduce.NormalizedAxes(domain.Rank);
            sb.AppendLine($"            a.R = {string.Join(" * ", axes.Select(x => HostDim(domain[x])).DefaultIfEmpty("1"))}; a.Inv = ({T})1 / ({T})a.R;");
        }
        sb.AppendLine($"            a.Size = {size}; a.Stride = c.Extent(a.Size);");
        sb.AppendLine($"            {field}(c.Stream, a.Stride, a);");
        sb.AppendLine("        }");
        return sb.ToString();
    }
}
