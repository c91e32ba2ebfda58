using System.Text;

namespace GraphNet.Compiler;

/// <summary>
/// One future kernel: an anchor (a library call, a reduction or a reference op) or none for a
/// pure loop, plus the pointwise nodes fused into it: a prologue computed inside a reduction's
/// loop, or an epilogue applied to the anchor's output, element by element.
/// </summary>
public sealed class FusionGroup(int id, Shape domain, Node? anchor)
{
    public int Id { get; } = id;
    /// <summary>The loop domain of the pointwise nodes (the anchor's output shape, when there is one).</summary>
    public Shape Domain { get; } = domain;
    public Node? Anchor { get; } = anchor;
    public List<Node> Prologue { get; } = [];
    /// <summary>Pointwise nodes in graph order (the whole kernel when there is no anchor).</summary>
    public List<Node> Pointwise { get; } = [];

    public IEnumerable<Node> Nodes => Prologue.Concat(Anchor is null ? [] : [Anchor]).Concat(Pointwise);
}

/// <summary>Why a node ended where it did: the kernel it joined, or the rule that kept it apart.</summary>
public sealed record FusionDecision(Node Node, int Group, string Reason);

/// <summary>The result of fusion: kernels in a valid order, and every decision with its reason.</summary>
public sealed class FusionPlan
{
    public List<FusionGroup> Groups { get; } = [];
    public Dictionary<Node, FusionGroup> GroupOf { get; } = [];
    public List<FusionDecision> Decisions { get; } = [];
    /// <summary>Slices read in place by their consumers' loops (see <see cref="Compiler.SliceViews"/>): no kernel, no buffer.</summary>
    public HashSet<Node> SliceViews { get; } = [];
    /// <summary>Concatenations whose pieces their loops store in place (see <see cref="Compiler.ConcatViews"/>): no kernel, no copy.</summary>
    public HashSet<Node> ConcatViews { get; } = [];

    public string Report()
    {
        var sb = new StringBuilder();
        foreach (var d in Decisions)
            sb.AppendLine($"%{d.Node.Id} {d.Node.Op.Name} '{d.Node.Name}' -> {(d.Group >= 0 ? $"kernel {d.Group}" : "no kernel")}: {d.Reason}");
        return sb.ToString();
    }
}
