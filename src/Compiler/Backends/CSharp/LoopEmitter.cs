using System.Globalization;
using System.Text;

namespace GraphNet.Compiler.Backends.CSharp;

/// <summary>
/// Emits one loop over a domain: a struct implementing IRunVisitor whose Run method evaluates
/// the pointwise nodes on a run of elements, in whole vectors of the machine's width and then a
/// scalar tail, and either stores the outputs or feeds a reduction's accumulator. Every op is a
/// call on a handler: the vector handler (<c>Simd512&lt;T&gt;</c> or <c>Simd256&lt;T&gt;</c>) in
/// the vector loop and the reference handler (<c>Reference&lt;T&gt;</c>) in the tail, so a table
/// entry's formula is the same code in both and in every other backend.
/// </summary>
internal sealed class LoopEmitter
{
    private readonly string name, T;
    private readonly Shape domain;
    private readonly IReadOnlyList<Node> nodes;
    private readonly HashSet<Node> local;
    private readonly IReadOnlyList<Tensor> stores;
    private readonly Func<Tensor, string> buffer;
    /// <summary>The C# expression of an integer that differs between kernels sharing this code (an offset, a seed).</summary>
    private readonly Func<int, string> arg;
    /// <summary>Each node's position in the loop: local names use it, not the node's id, so equal loops have equal text.</summary>
    private readonly Dictionary<Node, int> position;
    private readonly LoopLeaves leaves;
    private readonly List<string> fields = [], init = [];
    private readonly bool vectorize;
    /// <summary>The vector handler, the vector type and the scalar handler, as C# type names.</summary>
    private readonly string VO, VT, SO;
    /// <summary>Per store, its layout when it is written in place into a larger buffer (a piece of a concatenation), else null.</summary>
    private readonly LeafView?[] storeViews;

    // buffer: the C# expression of a tensor's buffer array, e.g. "((float[])c.B[args[3]])".
    public LoopEmitter(string name, string elementType, Shape domain, IReadOnlyList<Node> nodes, IReadOnlyList<Tensor> stores, Func<Tensor, string> buffer,
        Func<int, string> arg, Func<Tensor, LeafView?> viewOf, int vectorWidth, Tensor? extraLeaf = null)
    {
        (this.name, T, this.domain, this.nodes, this.stores, this.buffer, this.arg) = (name, elementType, domain, nodes, stores, buffer, arg);
        position = nodes.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i);
        leaves = new LoopLeaves(domain, nodes, extraLeaf, viewOf);
        local = leaves.Local;
        storeViews = stores.Select(viewOf).ToArray();
        // Bool tensors crossing the loop's edge are read and written element by element.
        vectorize = vectorWidth > 0 && leaves.Items.All(l => l.T.DType != DType.Bool) && stores.All(s => s.DType != DType.Bool);
        VO = $"Simd{vectorWidth}<{T}>"; VT = $"Vector{vectorWidth}<{T}>"; SO = $"Reference<{T}>";
    }

    /// <summary>The leaves a broadcast plan walks (broadcast and strided), in the order the plan's inputs come after any extra ones.</summary>
    private List<(Tensor T, LeafKind Kind)> PlanLeaves => leaves.Items.Where(l => l.Kind is LeafKind.Broadcast or LeafKind.Strided).ToList();

    public bool IsFlat => PlanLeaves.Count == 0 && storeViews.All(v => v is null);

    /// <summary>
    /// The expression of the plan over <paramref name="outShape"/>: broadcast leaves by their
    /// shapes; strided leaves (slices read in place) and strided stores (pieces of a
    /// concatenation), after them, by their strides and first element.
    /// <paramref name="first"/>, when given, is the shape of an extra first input (a reduction's accumulator).
    /// </summary>
    public string PlanExpression(Shape outShape, Shape? first, Func<Shape, string> dims)
    {
        var inputs = PlanLeaves;
        var views = storeViews.OfType<LeafView>().ToList();
        string outDims = dims(outShape);
        var shapes = (first is null ? [] : new[] { first }).Concat(inputs.Select(l => l.T.Shape)).Select(dims);
        if (inputs.All(l => l.Kind == LeafKind.Broadcast) && views.Count == 0) return $"new BroadcastPlan({outDims}, {string.Join(", ", shapes)})";
        // Strided stores come after the leaves, in store order.
        var strides = (first is null ? [] : new[] { $"BroadcastPlan.StridesFor({dims(first)}, {outDims})" })
            .Concat(inputs.Select(l => l.Kind == LeafKind.Strided
                ? "new int[] { " + string.Join(", ", leaves.Views[l.T].Strides.Select(arg)) + " }"
                : $"BroadcastPlan.StridesFor({dims(l.T.Shape)}, {outDims})"))
            .Concat(views.Select(v => "new int[] { " + string.Join(", ", v.Strides.Select(arg)) + " }"));
        var offsets = (first is null ? Array.Empty<string>() : ["0"])
            .Concat(inputs.Select(l => l.Kind == LeafKind.Strided ? arg(leaves.Views[l.T].Offset) : "0"))
            .Concat(views.Select(v => arg(v.Offset)));
        return $"new BroadcastPlan({outDims}, new int[][] {{ {string.Join(", ", strides)} }}, new int[] {{ {string.Join(", ", offsets)} }})";
    }

    private int LeafIndex(Tensor t) => leaves.IndexOf(t);

    private string Literal(double v) => T == "float"
        ? ((float)v).ToString("R", CultureInfo.InvariantCulture) + "f"
        : v.ToString("R", CultureInfo.InvariantCulture) + "d";

    private string ElemType(Tensor t) => t.DType switch { DType.Float32 => "float", DType.Float64 => "double", DType.Bool => "bool", DType.Int64 => "long", DType.Int32 => "int", _ => throw new NotSupportedException() };

    /// <summary>
    /// The struct's source. <paramref name="accumulate"/>: null to store outputs, else the reduction
    /// (its root value feeds plan input 0, the accumulator).
    /// </summary>
    public string EmitStruct(ReduceOp? accumulate, Tensor? root)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"    private struct {name} : IRunVisitor");
        sb.AppendLine("    {");
        int planInput = accumulate is null ? 0 : 1;
        for (int i = 0; i < leaves.Count; i++)
        {
            var (t, kind) = leaves[i];
            string et = ElemType(t);
            sb.AppendLine($"        public {et}[] L{i};");
            if (kind == LeafKind.Scalar) sb.AppendLine($"        public {et} S{i};" + (vectorize ? $" public {VT} VS{i};" : ""));
        }
        for (int k = 0; k < stores.Count; k++) sb.AppendLine($"        public {ElemType(stores[k])}[] O{k};");
        if (accumulate is not null) sb.AppendLine($"        public {T}[] Acc;");
        foreach (var n in nodes)
            switch (n.Op)
            {
                case DropoutOp: sb.AppendLine($"        public bool Train{position[n]}; public ulong Key{position[n]};"); break;
                case OneHotOp: sb.AppendLine($"        public long[] Labels{position[n]};"); break;
                case CountOfOp: sb.AppendLine($"        public {T} Count{position[n]};"); break;
            }
        sb.AppendLine("        [MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        sb.AppendLine("        public void Run(int o, ReadOnlySpan<int> offs, ReadOnlySpan<int> st, int n)");
        sb.AppendLine("        {");
        int p = planInput;
        for (int i = 0; i < leaves.Count; i++)
        {
            var (t, kind) = leaves[i];
            if (kind == LeafKind.Full) sb.AppendLine($"            ref {ElemType(t)} F{i} = ref MemoryMarshal.GetArrayDataReference(L{i});");
            if (kind is LeafKind.Broadcast or LeafKind.Strided)
            {
                sb.AppendLine($"            Span<{ElemType(t)}> R{i} = st[{p}] == 1 ? L{i}.AsSpan(offs[{p}], n) : VMath.Row(L{i}, offs[{p}], st[{p}], n, {i});");
                sb.AppendLine($"            ref {ElemType(t)} F{i} = ref MemoryMarshal.GetReference(R{i});");
                p++;
            }
        }
        for (int k = 0; k < stores.Count; k++)
            if (storeViews[k] is null) sb.AppendLine($"            ref {ElemType(stores[k])} G{k} = ref MemoryMarshal.GetArrayDataReference(O{k});");
            else sb.AppendLine($"            ref {ElemType(stores[k])} G{k} = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(O{k}), offs[{p++}]); // a piece of a concatenation: this run's row");
        sb.AppendLine("            int j = 0;");
        if (accumulate is null)
        {
            if (vectorize) EmitVectorLoop(sb, "            ", () => StoreLines(true));
            EmitScalarLoop(sb, "            ", () => StoreLines(false));
        }
        else EmitReduction(sb, accumulate, root!);
        sb.AppendLine("        }");
        sb.AppendLine("    }");
        return sb.ToString();
    }

    private IEnumerable<string> StoreLines(bool vec) => stores.Select((s, k) =>
    {
        string index = storeViews[k] is null ? "o + j" : "j";
        return vec ? $"{VO}.Store({Value(s, true)}, ref G{k}, (nuint)({index}));" : $"Unsafe.Add(ref G{k}, {index}) = {Value(s, false)};";
    });

    private void EmitVectorLoop(StringBuilder sb, string ind, Func<IEnumerable<string>> tail)
    {
        sb.AppendLine($"{ind}for (; j + {VO}.Count <= n; j += {VO}.Count)");
        sb.AppendLine($"{ind}{{");
        foreach (var line in Body(true)) sb.AppendLine($"{ind}    {line}");
        foreach (var line in tail()) sb.AppendLine($"{ind}    {line}");
        sb.AppendLine($"{ind}}}");
    }

    private void EmitScalarLoop(StringBuilder sb, string ind, Func<IEnumerable<string>> tail)
    {
        sb.AppendLine($"{ind}for (; j < n; j++)");
        sb.AppendLine($"{ind}{{");
        foreach (var line in Body(false)) sb.AppendLine($"{ind}    {line}");
        foreach (var line in tail()) sb.AppendLine($"{ind}    {line}");
        sb.AppendLine($"{ind}}}");
    }

    private void EmitReduction(StringBuilder sb, ReduceOp r, Tensor root)
    {
        // Max and min are the handlers' NaN-propagating ones, so a NaN anywhere reaches the result.
        string combineV(string a, string b) => r.Kind switch
        {
            ReduceKind.Max => $"{VO}.Max({a}, {b})", ReduceKind.Min => $"{VO}.Min({a}, {b})", _ => $"{VO}.Add({a}, {b})",
        };
        string combineS(string a, string b) => r.Kind switch
        {
            ReduceKind.Max => $"{SO}.Max({a}, {b})", ReduceKind.Min => $"{SO}.Min({a}, {b})", _ => $"({a} + {b})",
        };
        string init = r.Kind switch { ReduceKind.Max => $"{T}.NegativeInfinity", ReduceKind.Min => $"{T}.PositiveInfinity", _ => $"({T})0" };
        sb.AppendLine("            int a = offs[0];");
        sb.AppendLine("            if (st[0] == 0)");
        sb.AppendLine("            {");
        sb.AppendLine($"                {T} s = {init};");
        if (vectorize)
        {
            sb.AppendLine($"                var acc = {VO}.Splat({init});");
            EmitVectorLoop(sb, "                ", () => [$"acc = {combineV("acc", Value(root, true))};"]);
            sb.AppendLine($"                for (int q = 0; q < {VO}.Count; q++) s = {combineS("s", $"{VO}.Lane(acc, q)")};");
        }
        EmitScalarLoop(sb, "                ", () => [$"s = {combineS("s", Value(root, false))};"]);
        sb.AppendLine($"                Acc[a] = {combineS("Acc[a]", "s")};");
        sb.AppendLine("            }");
        sb.AppendLine("            else");
        sb.AppendLine("            {");
        sb.AppendLine($"                ref {T} A = ref Acc[a];");
        if (vectorize)
        {
            var sum = combineV($"{VO}.Load(ref A, (nuint)j)", Value(root, true));
            EmitVectorLoop(sb, "                ", () => [$"{VO}.Store({sum}, ref A, (nuint)j);"]);
        }
        EmitScalarLoop(sb, "                ", () => [$"Unsafe.Add(ref A, j) = {combineS("Unsafe.Add(ref A, j)", Value(root, false))};"]);
        sb.AppendLine("            }");
    }

    /// <summary>One statement per local node, in order.</summary>
    private IEnumerable<string> Body(bool vec) => nodes.Select(n => $"var v{position[n]} = {Expr(n, vec)};");

    /// <summary>The value of a tensor at the current element: a local or a leaf read.</summary>
    private string Value(Tensor t, bool vec)
    {
        if (local.Contains(t.Node)) return $"v{position[t.Node]}";
        int i = LeafIndex(t);
        var kind = leaves[i].Kind;
        if (kind == LeafKind.Scalar) return vec ? $"VS{i}" : $"S{i}";
        string index = kind == LeafKind.Full ? "o + j" : "j";
        return vec ? $"{VO}.Load(ref F{i}, (nuint)({index}))" : $"Unsafe.Add(ref F{i}, {index})";
    }

    private string Expr(Node n, bool vec)
    {
        string X(int k) => Value(n.Inputs[k], vec);
        string O = vec ? VO : SO;
        string Param(string? name, double p) => name is null ? "default" : vec ? $"{VO}.Splat({Literal(p)})" : Literal(p);
        switch (n.Op)
        {
            case UnaryOp u: return $"{O}.Unary<{LoopLeaves.Formula(u.Fn.Formula)}>({X(0)}, {Param(u.Fn.ParamName, u.Param)})";
            case BinaryOp b: return $"{O}.Binary<{LoopLeaves.Formula(b.Fn.Formula)}>({X(0)}, {X(1)}, {Param(b.Fn.ParamName, b.Param)})";
            case CompareOp c: return $"{O}.{c.Kind}({X(0)}, {X(1)})";
            case WhereOp: return $"{O}.Select({X(0)}, {X(1)}, {X(2)})";
            case CastOp c when c.To == DType.Bool: return $"{O}.NotEqual({X(0)}, {O}.Const(0))";
            case CastOp: return vec ? $"{VO}.Select({X(0)}, {VO}.Const(1), {VO}.Const(0))" : $"({X(0)} ? ({T})1 : ({T})0)";
            case BroadcastLikeOp: return X(0);
            case CountOfOp: return vec ? $"{VO}.Splat(Count{position[n]})" : $"Count{position[n]}";
            case DropoutOp d:
                string scale = Literal(1 / (1 - d.Rate)), rate = ((float)d.Rate).ToString("R", CultureInfo.InvariantCulture) + "f";
                return vec ? $"(Train{position[n]} ? {VO}.Mul({X(0)}, {VO}.DropoutScale(Key{position[n]}, o + j, {rate}, {scale})) : {X(0)})"
                           : $"(Train{position[n]} ? {X(0)} * VMath.DropoutScale<{T}>(Key{position[n]}, o + j, {rate}, {scale}) : {X(0)})";
            case OneHotOp o:
                return vec ? $"VMath.OneHotV<{T}, {VT}, {VO}>(Labels{position[n]}, o + j, {o.Depth})"
                           : $"VMath.OneHot<{T}>(Labels{position[n]}, o + j, {o.Depth})";
            default: throw new NotSupportedException($"the C# backend cannot put {n.Op.Name} in a loop");
        }
    }

    /// <summary>Statements that fill the struct before the loop runs.</summary>
    public string EmitInit(string var, Func<Shape, string> dims)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"        var {var} = new {name}();");
        for (int i = 0; i < leaves.Count; i++)
        {
            var (t, kind) = leaves[i];
            sb.AppendLine($"        {var}.L{i} = {buffer(t)};");
            if (kind == LeafKind.Scalar)
                sb.AppendLine($"        {var}.S{i} = {var}.L{i}[0];" + (vectorize ? $" {var}.VS{i} = {VO}.Splat({var}.S{i});" : ""));
        }
        for (int k = 0; k < stores.Count; k++) sb.AppendLine($"        {var}.O{k} = {buffer(stores[k])};");
        foreach (var n in nodes)
            switch (n.Op)
            {
                case DropoutOp d:
                    sb.AppendLine($"        {var}.Train{position[n]} = {buffer(n.Inputs[1])}[0]; " +
                        $"{var}.Key{position[n]} = c.DropoutKey({arg(d.Seed)});");
                    break;
                case OneHotOp oh:
                    sb.AppendLine($"        {var}.Labels{position[n]} = {buffer(n.Inputs[0])}; " +
                        $"VMath.CheckIndices({var}.Labels{position[n]}, {oh.Depth});");
                    break;
                case CountOfOp co:
                    var s = n.Inputs[0].Shape;
                    var count = string.Join(" * ", co.Axes.Select(a => Shape.Expr(s[a])).DefaultIfEmpty("1"));
                    sb.AppendLine($"        {var}.Count{position[n]} = ({T})({count});");
                    break;
            }
        return sb.ToString();
    }
}
