namespace GraphNet.Compiler.Passes;

/// <summary>
/// Local algebraic rules: x·1, x+0, x−0, x/1 → x; −(−x) → x; transpose∘transpose and
/// reshape∘reshape compose; no-op reshapes, transposes and casts vanish; log(softmax(x)) →
/// log_softmax(x); x/c → x·(1/c). x·0 is left alone unless x is a constant (NaN and Inf).
/// </summary>
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

    private static bool IsConst(Tensor t, double value) =>
        t.Node.Op is ConstantOp c && c.Value.DType.IsFloat() && Enumerable.Range(0, c.Value.Size).All(i => c.Value.GetDouble(i) == value);
}
