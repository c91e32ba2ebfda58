using GraphNet.Runtime.Kernels;

namespace GraphNet.Runtime;

/// <summary>
/// How eager mode runs one op, as an eager framework does: pointwise ops, reductions and dropout
/// through the vectorized, multi-core kernels (the pointwise table's vector form), GEMM,
/// convolutions, pooling and softmax through the library, anything else through its reference
/// evaluation. Outputs go into arrays from the step's <see cref="BufferPool"/>. No code is
/// generated: what deferred mode adds on top is fusion, memory planning and no per-op dispatch.
/// </summary>
internal static class EagerKernels
{
    public static NDArray[] Run(Node node, NDArray[] x, EvalContext ctx, BufferPool pool) =>
        PlantedFault.Any && node.Op is UnaryOp or BinaryOp or DropoutOp or BroadcastLikeOp or ReduceOp
            ? [PlantedFault.Around(node, null, () => RunOwn(node, x, ctx, pool)[0])!] // eager's own kernels
            : RunOwn(node, x, ctx, pool);

    private static NDArray[] RunOwn(Node node, NDArray[] x, EvalContext ctx, BufferPool pool)
    {
        switch (node.Op)
        {
            case UnaryOp u when x[0].DType.IsFloat():
            {
                var y = pool.Rent(x[0].DType, x[0].Shape);
                PointwiseKernels.Unary(u.Fn, x[0], y, u.Param);
                return [y];
            }
            case BinaryOp b when x[0].DType.IsFloat():
            {
                var y = pool.Rent(x[0].DType, BroadcastPlan.OutShape(b.Name, x[0].Shape, x[1].Shape));
                PointwiseKernels.Binary(b.Fn, x[0], x[1], y, b.Param);
                return [y];
            }
            case DropoutOp d when x[0].DType.IsFloat():
            {
                if (!x[1].As<bool>()[0] || d.Rate == 0) return [x[0]];
                var y = pool.Rent(x[0].DType, x[0].Shape);
                PointwiseKernels.Dropout(x[0], y, d.MaskKey(ctx.GraphSeed, ctx.RunCounter), (float)d.Rate, 1 / (1 - d.Rate));
                return [y];
            }
            case BroadcastLikeOp:
            {
                var y = pool.Rent(x[0].DType, x[1].Shape);
                PointwiseKernels.BroadcastTo(x[0], y);
                return [y];
            }
            case ReduceOp r when x[0].DType.IsFloat():
            {
                var axes = r.NormalizedAxes(x[0].Rank);
                var shape = x[0].Shape.Select((d, i) => (d, i)).Where(p => r.KeepDims || !axes.Contains(p.i))
                    .Select(p => axes.Contains(p.i) ? 1 : p.d).ToArray();
                var y = pool.Rent(x[0].DType, shape);
                ReduceKernels.Reduce(r, x[0], y);
                return [y];
            }
        }
        var type = node.OutputTypes.Count == 1 ? node.OutputTypes[0] : null;
        var into = type is { Shape.IsSymbolic: false } ? pool.Rent(type.DType, type.Shape.ToArray()) : null;
        if (Library.TryRun(node, x, into) is { } result) return [result];
        if (into is not null) pool.Return([into.Data], Empty);
        return node.Op.Evaluate(ctx, x);
    }

    private static readonly HashSet<Array> Empty = new(ReferenceEqualityComparer.Instance);
}
