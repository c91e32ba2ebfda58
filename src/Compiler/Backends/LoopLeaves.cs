namespace GraphNet.Compiler.Backends;

/// <summary>
/// How a loop reads a tensor from outside: element for element, one scalar, broadcast, or strided from a larger
/// buffer (a slice read in place).
/// </summary>
internal enum LeafKind { Full, Scalar, Broadcast, Strided }

/// <summary>
/// What a generated loop reads from outside (its leaves) and how, shared by the C# and ILGPU
/// emitters: every input of the loop's nodes that is not computed in the loop, except the side
/// inputs that are read specially.
/// </summary>
internal sealed class LoopLeaves
{
    /// <summary>
    /// The leaves of a loop over <c>domain</c> computing <c>nodes</c>; <c>viewOf</c> says how a slice read in
    /// place lies in its source's buffer (null for any other tensor).
    /// </summary>
    public LoopLeaves(Shape domain, IReadOnlyList<Node> nodes, Tensor? extraLeaf, Func<Tensor, LeafView?> viewOf)
    {
        this.viewOf = viewOf;
        Local = nodes.ToHashSet();
        if (extraLeaf is not null) Add(domain, extraLeaf);
        foreach (var n in nodes)
            for (int i = 0; i < n.Inputs.Count; i++)
                if (!Local.Contains(n.Inputs[i].Node) && !IsSideInput(n, i)) Add(domain, n.Inputs[i]);
    }

    /// <summary>The nodes computed inside the loop.</summary>
    public HashSet<Node> Local { get; }
    public List<(Tensor T, LeafKind Kind)> Items { get; } = [];
    /// <summary>The layouts of the strided leaves.</summary>
    public Dictionary<Tensor, LeafView> Views { get; } = [];
    private readonly Func<Tensor, LeafView?> viewOf;
    public int Count => Items.Count;
    public (Tensor T, LeafKind Kind) this[int i] => Items[i];
    public int IndexOf(Tensor t) => Items.FindIndex(l => l.T == t);

    private void Add(Shape domain, Tensor t)
    {
        if (Items.Any(l => l.T == t)) return;
        if (viewOf(t) is { } view)
        {
            // Fusion makes a slice a view only where its readers run over its own shape.
            if (t.Shape != domain) throw new InvalidOperationException($"slice view '{t.Name}' {t.Shape} read by a loop over {domain}");
            Views[t] = view;
            Items.Add((t, LeafKind.Strided));
            return;
        }
        var kind = t.Shape == domain ? LeafKind.Full : (!t.Shape.IsSymbolic && t.Shape.StaticSize == 1) ? LeafKind.Scalar : LeafKind.Broadcast;
        Items.Add((t, kind));
    }

    /// <summary>Inputs read specially, not as elements: dropout's switch, one_hot's labels, shapes only.</summary>
    public static bool IsSideInput(Node n, int i) => n.Op switch
    {
        DropoutOp => i == 1, OneHotOp => true, CountOfOp => true, BroadcastLikeOp => i == 1, _ => false,
    };

    /// <summary>A table entry's formula struct as generated code names it (nested types joined with '.', not the CLR's '+').</summary>
    public static string Formula(Type t) => "global::" + t.FullName!.Replace('+', '.');

    /// <summary>The comment that heads a kernel in generated code: its kind, domain, nodes and their source lines.</summary>
    public static string Header(Kernel k)
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine($"    // kernel {k.Index}: {k.Kind.ToString().ToLowerInvariant()} over {k.Domain}");
        foreach (var n in k.Nodes)
            sb.AppendLine($"    //   %{n.Id} {n.Op.Name} '{n.Name}' : {n.OutputTypes[0]}  at {n.Source}{(n.ForwardOf is { } f ? $" (backward of '{f.Name}')" : "")}");
        return sb.ToString();
    }

    /// <summary>The floating-point type a kernel computes in.</summary>
    public static string ElementType(Kernel k)
    {
        // The first floating-point value the kernel computes or reads: a comparison's output is
        // bool, but it compares (and a where beside it selects) values of its inputs' type.
        var t = k.Nodes.SelectMany(n => n.OutputTypes.Select(o => o.DType).Concat(n.Inputs.Select(i => i.DType))).FirstOrDefault(d => d.IsFloat());
        return t == DType.Float64 ? "double" : "float";
    }
}
