namespace GraphNet.Compiler;

/// <summary>
/// What the compiler works on: a graph with the tensors to fetch and the placeholders fed.
/// Passes turn one unit into another; the graph of a unit is never mutated after a pass.
/// </summary>
public sealed record Unit(Graph Graph, IReadOnlyList<Tensor> Fetches, IReadOnlyList<Tensor> Feeds)
{
    public string ToText() => GraphText.Format(Graph) +
        "fetch " + string.Join(", ", Fetches.Select(f => "%" + f.Node.Id)) + "\n";
}

/// <summary>
/// Copies a unit into a new graph node by node; a rule may replace a node by tensors of the
/// new graph. Nodes keep their names and source lines.
/// </summary>
public sealed class Rewriter
{
    private readonly Dictionary<Tensor, Tensor> map = [];
    public Graph Target { get; }

    private Rewriter(Graph source) { Target = new Graph(source.Seed); }

    /// <summary>The new-graph tensor standing for an old-graph tensor.</summary>
    public Tensor this[Tensor old] => map[old];

    /// <summary>
    /// Rewrites every node (in order) of <paramref name="unit"/>: <paramref name="rule"/> gets the node and its
    /// already-mapped inputs and returns replacement outputs, or null to copy the node.
    /// Only nodes in <paramref name="keep"/> (default: all) are visited.
    /// </summary>
    public static Unit Run(Unit unit, Func<Rewriter, Node, Tensor[], Tensor[]?> rule, ISet<Node>? keep = null)
    {
        var r = new Rewriter(unit.Graph);
        foreach (var node in unit.Graph.Nodes)
        {
            if (keep is not null && !keep.Contains(node)) continue;
            var inputs = node.Inputs.Select(i => r.map[i]).ToArray();
            var outs = rule(r, node, inputs) ?? r.Copy(node, inputs);
            for (int i = 0; i < outs.Length; i++) r.map[node.Outputs[i]] = outs[i];
        }
        return new Unit(r.Target, unit.Fetches.Select(f => r.map[f]).ToArray(), unit.Feeds.Select(f => r.map[f]).ToArray());
    }

    /// <summary>Adds <paramref name="op"/> in the new graph with the provenance of <paramref name="like"/>.</summary>
    public Tensor[] Add(Op op, Tensor[] inputs, Node like) => Target.AddNodeLike(op, inputs, like).Outputs.ToArray();

    public Tensor[] Copy(Node node, Tensor[] inputs) => Add(node.Op, inputs, node);
}
