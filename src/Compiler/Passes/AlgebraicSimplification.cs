namespace GraphNet.Compiler.Passes;

/// <summary>
/// Local algebraic rules: x·1, x+0, x−0, x/1 → x; −(−x) → x; transpose∘transpose and
/// reshape∘reshape compose; no-op reshapes, transposes and casts vanish; log(softmax(x)) →
/// log_softmax(x); x/c → x·(1/c); pad(a) + pad(b) of zeros around adjacent ranges of one axis →
/// pad(concat(a, b)), and a pad of nothing vanishes; a sum of products aᵢᵀ·bᵢ over the same
/// rows → one batch-summed product of the stacked aᵢ and bᵢ. x·0 is left alone unless x is a
/// constant (NaN and Inf).
/// </summary>
/// <remarks>
/// The pad rule is for gradients of slices: an LSTM slices its gate matrix into four gates, and
/// their gradients come back as four zero pads summed (three full-size adds and four pads per
/// time step); merged, they are one concatenation.
/// The product rule is for weights shared across time: an LSTM's recurrent weight gradient is
/// Σₜ dgatesₜᵀ·hₜ, 27 small GEMMs (K = batch) and 26 adds; stacked over time it is one GEMM
/// with K = batch × steps.
/// </remarks>
public sealed class AlgebraicSimplification : Pass
{
    public override string Name => "algebraic";

    public override Unit Run(Unit unit) => Rewriter.Run(unit, (r, node, x) =>
    {
        Tensor? Same(Tensor t) => t.Type == node.OutputTypes[0] ? t : null;
        switch (node.Op)
        {
            case BinaryOp { Fn: var fn } when fn == Pointwise.Mul && IsConst(x[1], 1): return One(Same(x[0]));
            case BinaryOp { Fn: var fn } when fn == Pointwise.Mul && IsConst(x[0], 1): return One(Same(x[1]));
            case BinaryOp { Fn: var fn } when fn == Pointwise.Add && IsConst(x[1], 0): return One(Same(x[0]));
            case BinaryOp { Fn: var fn } when fn == Pointwise.Add && x[0].Type == node.OutputTypes[0] && x[1].Type == node.OutputTypes[0]
                                                && (MergePads(r, node, x[0], x[1]) ?? MergeRowProducts(r, node, x[0], x[1])) is { } merged: return [merged];
            case PadOp pad when pad.Pads.All(p => p == 0): return [x[0]];
            case BinaryOp { Fn: var fn } when fn == Pointwise.Add && IsConst(x[0], 0): return One(Same(x[1]));
            case BinaryOp { Fn: var fn } when fn == Pointwise.Sub && IsConst(x[1], 0): return One(Same(x[0]));
            case BinaryOp { Fn: var fn } when fn == Pointwise.Div && IsConst(x[1], 1): return One(Same(x[0]));
            case BinaryOp { Fn: var fn } when fn == Pointwise.Div && x[1].Node.Op is ConstantOp { Value.Size: 1 } c && c.Value.DType.IsFloat():
                var inv = r.Add(new ConstantOp(NDArray.Scalar(c.Value.DType, 1 / c.Value.Item()).Reshape(c.Value.Shape)), [], node)[0];
                return r.Add(new BinaryOp(Pointwise.Mul), [x[0], inv], node);
            case UnaryOp { Fn: var fn } when fn == Pointwise.Neg && x[0].Node.Op is UnaryOp { Fn: var inner } && inner == Pointwise.Neg:
                return [x[0].Node.Inputs[0]];
            case UnaryOp { Fn: var fn } when fn == Pointwise.Log && x[0].Node.Op is SoftmaxOp { Log: false } sm:
                return r.Add(new SoftmaxOp(sm.Axis, true), [x[0].Node.Inputs[0]], node);
            case CastOp c when c.To == x[0].DType: return [x[0]];
            case ReshapeOp when x[0].Shape == node.OutputTypes[0].Shape: return [x[0]];
            case ReshapeOp rs when x[0].Node.Op is ReshapeOp:
                return r.Add(rs, [x[0].Node.Inputs[0]], node);
            case TransposeOp t when t.Perm.Select((p, i) => p == i).All(b => b): return [x[0]];
            case TransposeOp t when x[0].Node.Op is TransposeOp inner:
                var perm = t.Perm.Select(p => inner.Perm[p]).ToArray();
                var src = x[0].Node.Inputs[0];
                return perm.Select((p, i) => p == i).All(b => b) ? [src] : r.Add(new TransposeOp(perm), [src], node);
        }
        return null;
    });

    private static Tensor[]? One(Tensor? t) => t is null ? null : [t];

    /// <summary>The axis a zero pad pads, and the range its input fills there; null for other pads.</summary>
    private static (int Axis, int Start, int Length)? PadRange(Tensor t)
    {
        if (t.Node.Op is not PadOp { Value: 0 } p) return null;
        var axes = Enumerable.Range(0, p.Pads.Length / 2).Where(a => p.Pads[2 * a] + p.Pads[2 * a + 1] > 0).ToList();
        if (axes.Count != 1) return null;
        int axis = axes[0];
        return (axis, p.Pads[2 * axis], t.Node.Inputs[0].Shape[axis]);
    }

    private static Tensor? MergePads(Rewriter r, Node node, Tensor a, Tensor b)
    {
        if (PadRange(a) is not { } ra || PadRange(b) is not { } rb || ra.Axis != rb.Axis) return null;
        if (rb.Start + rb.Length == ra.Start) { (a, b, ra, rb) = (b, a, rb, ra); }
        if (ra.Start + ra.Length != rb.Start) return null;
        int axis = ra.Axis, total = node.OutputTypes[0].Shape[axis];
        // Splice concatenations that earlier merges made, so a chain of adds becomes one concat.
        var parts = new[] { a.Node.Inputs[0], b.Node.Inputs[0] }
            .SelectMany(t => t.Node.Op is ConcatOp c && (c.Axis < 0 ? c.Axis + t.Rank : c.Axis) == axis ? t.Node.Inputs.ToArray() : [t]).ToArray();
        var joined = r.Add(new ConcatOp(axis), parts, node)[0];
        var pads = new int[2 * node.OutputTypes[0].Shape.Rank];
        pads[2 * axis] = ra.Start;
        pads[2 * axis + 1] = total - rb.Start - rb.Length;
        return pads.All(p => p == 0) ? joined : r.Add(new PadOp(pads), [joined], node)[0];
    }

    /// <summary>
    /// A product aᵀ·b of two matrices with the same rows, as pieces to stack along a new axis 1
    /// ([rows,1,·] each), or the pieces of an earlier merge; null for anything else.
    /// </summary>
    private static (Tensor[] A, Tensor[] B)? RowProductPieces(Tensor t)
    {
        if (t.Node.Op is not MatMulOp { TransA: true, TransB: false } mm) return null;
        Tensor a = t.Node.Inputs[0], b = t.Node.Inputs[1];
        if (!mm.SumBatch)
            return a.Rank == 2 && b.Rank == 2 && a.Shape[0] == b.Shape[0] ? ([a], [b]) : null;
        if (a.Rank != 3 || b.Rank != 3) return null;
        // An earlier merge: splice its stacks when both are concatenations of matching pieces.
        if (a.Node.Op is ConcatOp { Axis: 1 } && b.Node.Op is ConcatOp { Axis: 1 } && a.Node.Inputs.Count == b.Node.Inputs.Count
            && a.Node.Inputs.Zip(b.Node.Inputs).All(p => p.First.Shape[1] == p.Second.Shape[1]))
            return (a.Node.Inputs.ToArray(), b.Node.Inputs.ToArray());
        return ([a], [b]);
    }

    private static Tensor? MergeRowProducts(Rewriter r, Node node, Tensor x, Tensor y)
    {
        if (RowProductPieces(x) is not { } px || RowProductPieces(y) is not { } py) return null;
        var rows = px.A[0].Shape[0];
        if (py.A[0].Shape[0] != rows) return null;
        Tensor Stack(Tensor piece) => piece.Rank == 3 ? piece : r.Add(new ReshapeOp([-1, 1, piece.Shape[1]]), [piece], node)[0];
        var a = r.Add(new ConcatOp(1), px.A.Concat(py.A).Select(Stack).ToArray(), node)[0];
        var b = r.Add(new ConcatOp(1), px.B.Concat(py.B).Select(Stack).ToArray(), node)[0];
        return r.Add(new MatMulOp(true, false, SumBatch: true), [a, b], node)[0];
    }

    private static bool IsConst(Tensor t, double value) =>
        t.Node.Op is ConstantOp c && c.Value.DType.IsFloat() && Enumerable.Range(0, c.Value.Size).All(i => c.Value.GetDouble(i) == value);
}
