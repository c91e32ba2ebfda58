namespace GraphNet.Compiler;

/// <summary>
/// One kernel of the schedule: an optional anchor (library call, reduction, reference op),
/// pointwise nodes computed inside a reduction's loop (prologue) or after the anchor, element
/// by element (epilogue; the whole kernel when there is no anchor), the tensors it reads from
/// outside (leaves) and the tensors it must write (outputs).
/// </summary>
public sealed class Kernel
{
    public required int Index { get; init; }
    public required string Name { get; init; }
    public required Node? Anchor { get; init; }
    public required IReadOnlyList<Node> Prologue { get; init; }
    public required IReadOnlyList<Node> Epilogue { get; init; }
    public required Shape Domain { get; init; }
    public required IReadOnlyList<Tensor> Leaves { get; init; }
    public required IReadOnlyList<Tensor> Outputs { get; init; }

    /// <summary>Epilogue nodes the anchor's library call applies itself (see <see cref="LibraryEpilogues"/>), or null.</summary>
    public AbsorbedEpilogue? Absorbed { get; init; }

    public IEnumerable<Node> Nodes => Prologue.Concat(Anchor is null ? [] : [Anchor]).Concat(Absorbed?.Nodes ?? []).Concat(Epilogue);
    public NodeClass Kind => Anchor is null ? NodeClass.Pointwise : NodeClasses.Of(Anchor);

    /// <summary>
    /// The user source lines the kernel's nodes came from; a backward node counts with the line of
    /// the forward node it differentiates ("mnist_cnn.cs:20 (backward)").
    /// </summary>
    public IEnumerable<string> SourceLines => Nodes.Select(n => n.ForwardOf is { } f ? $"{f.Source} (backward)" : n.Source.ToString()).Distinct();
}
