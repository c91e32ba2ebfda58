namespace GraphNet.Compiler.Passes;

/// <summary>
/// Local algebraic rules: x·1, x+0, x−0, x/1 → x; −(−x) → x; transpose∘transpose and
/// reshape∘reshape compose; no-op reshapes, transposes and casts vanish; log(softmax(x)) →
/// log_softmax(x); x/c → x·(1/c); pad(a) + pad(b) of zeros around adjacent ranges of one axis →
/// pad(concat(a, b)), and a pad of nothing vanishes. x·0 is left alone unless x is a constant
/// (NaN and Inf).
/// </summary>
/// <remarks>
/// The pad rule is for gradients of slices: an LSTM slices its gate matrix into four gates, and
/// their gradients come back as four zero pads summed (three full-size adds and four pads per
/// time step); merged, they are one concatenation.
/// </remarks>
public sealed class AlgebraicSimplification : Pass
{
    public override string Name => "algebraic";

    public override Unit Run(Unit unit) => Rewriter.Run(unit, (r, node, x) =>
    {
        Tensor? Same(Tensor t) => t.Type == node.OutputTypes[0] ? t : null;
        switch (node.Op)
        {
            case BinaryOp { Fn.Name: "mul" } when IsConst(x[1], 1): return One(Same(x[0]));
            case BinaryOp { Fn.Name: "mul" } when IsConst(x[0], 1): return One(Same(x[1]));
            case BinaryOp { Fn.Name: "add" } when IsConst(x[1], 0): return One(Same(x[0]));
            case BinaryOp { Fn.Name: "add" } when x[0].Type == node.OutputTypes[0] && x[1].Type == node.OutputTypes[0]
                                                && MergePads(r, node, x[0], x[1]) is { } merged: return [merged];
            case PadOp pad when pad.Pads.All(p => p == 0): return [x[0]];
            case BinaryOp { Fn.Name: "add" } when IsConst(x[0], 0): return One(Same(x[1]));
            case BinaryOp { Fn.Name: "sub" } when IsConst(x[1], 0): return One(Same(x[0]));
            case BinaryOp { Fn.Name: "div" } when IsConst(x[1], 1): return One(Same(x[0]));
            case BinaryOp { Fn.Name: "div" } when x[1].Node.Op is ConstantOp { Value.Size: 1 } c && c.Value.DType.IsFloat():
                var inv = r.Add(new ConstantOp(NDArray.Scalar(c.Value.DType, 1 / c.Value.Item()).Reshape(c.Value.Shape)), [], node)[0];
                return r.Add(new BinaryOp(Pointwise.Mul), [x[0], inv], node);
            case UnaryOp { Fn.Name: "neg" } when x[0].Node.Op is UnaryOp { Fn.Name: "neg" }: return [x[0].Node.Inputs[0]];
            case UnaryOp { Fn.Name: "log" } when x[0].Node.Op is SoftmaxOp { Log: false } sm:
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

    private static bool IsConst(Tensor t, double value) =>
        t.Node.Op is ConstantOp c && c.Value.DType.IsFloat() && Enumerable.Range(0, c.Value.Size).All(i => c.Value.GetDouble(i) == value);
}
