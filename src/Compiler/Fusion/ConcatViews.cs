namespace GraphNet.Compiler;

/// <summary>
/// Concatenations that are never copied: when every piece is computed by a loop (a pointwise
/// kernel or an epilogue) and read by nothing but the concatenation, those loops store the
/// pieces straight into the concatenation's buffer, each as rows at its offset (the layout a
/// slice of the result would have), and the concatenation itself runs no kernel. An unrolled
/// LSTM's backward pass joins its four gate gradients this way at every time step.
/// </summary>
public static class ConcatViews
{
    public static bool Qualifies(Node concat, FusionPlan plan, Dictionary<Tensor, List<Node>> consumers, HashSet<Tensor> fetched)
    {
        if (concat.Op is not ConcatOp || !concat.Outputs[0].DType.IsFloat()) return false;
        if (concat.Inputs.Distinct().Count() != concat.Inputs.Count) return false;
        foreach (var (piece, view) in Layouts(concat))
        {
            var producer = piece.Node;
            if (NodeClasses.Of(producer) != NodeClass.Pointwise || fetched.Contains(piece)) return false;
            // Stored by its kernel's loop: an epilogue or pointwise node (not a reduction's prologue) over the piece's own shape.
            if (!plan.GroupOf.TryGetValue(producer, out var group) || !group.Pointwise.Contains(producer) || group.Domain != piece.Shape) return false;
            if (consumers[piece] is not [var only] || only != concat) return false;
            // Stores run along the innermost dimension with more than one element: it must be contiguous.
            if (view is null || !ContiguousRuns(piece.Shape, view)) return false;
        }
        return true;
    }

    private static bool ContiguousRuns(Shape shape, LeafView view)
    {
        for (int d = shape.Rank - 1; d >= 0; d--)
            if (shape[d] != 1) return view.Strides[d] == 1;
        return false;
    }

    /// <summary>Each piece of a concatenation with where it lies in the concatenation's buffer (null where its rows do not line up).</summary>
    private static IEnumerable<(Tensor Piece, LeafView? View)> Layouts(Node concat)
    {
        var op = (ConcatOp)concat.Op;
        int position = 0;
        foreach (var piece in concat.Inputs)
        {
            int axis = op.Axis < 0 ? op.Axis + piece.Rank : op.Axis;
            yield return (piece, SliceViews.Layout(concat.Outputs[0], axis, position, piece.Shape[axis], piece.Shape));
            position += piece.Shape[axis];
        }
    }

    /// <summary>Every piece of the given concatenations (all qualified), with its layout in the concatenation's buffer.</summary>
    public static Dictionary<Tensor, (Node Concat, LeafView View)> Pieces(IEnumerable<Node> concats)
    {
        var pieces = new Dictionary<Tensor, (Node, LeafView)>();
        foreach (var concat in concats)
            foreach (var (piece, view) in Layouts(concat)) pieces[piece] = (concat, view!);
        return pieces;
    }
}
