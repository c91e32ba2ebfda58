namespace GraphNet.Runtime.Kernels;

/// <summary>
/// The library-kernel dispatcher: which runtime kernel runs an op (GEMM, convolutions,
/// pooling, softmax in float32; slices, pads, concatenations and transposes in any type), written once for
/// every caller: the interpreter, eager mode and compiled steps' calls.
/// </summary>
public static class Library
{
    /// <summary>The op's library kernel on these inputs (into <paramref name="into"/> when given), or null when it has none.</summary>
    public static NDArray? TryRun(Node node, NDArray[] x, NDArray? into = null) =>
        PlantedFault.Any ? PlantedFault.Around(node, into, () => Kernel(node, x, into)) : Kernel(node, x, into);

    /// <summary>
    /// A convolution with its bias and ReLU applied as it stores (the C# backend's absorbed epilogue), a library
    /// kernel like the others.
    /// </summary>
    public static void Conv2dWithEpilogue(Node node, NDArray[] x, NDArray into, NDArray? bias, bool relu)
    {
        if (PlantedFault.Any) PlantedFault.Around(node, into, () => Conv.Forward(x[0], x[1], ((Conv2dOp)node.Op).P, into, bias: bias, relu: relu));
        else Conv.Forward(x[0], x[1], ((Conv2dOp)node.Op).P, into, bias: bias, relu: relu);
    }

    private static NDArray? Kernel(Node node, NDArray[] x, NDArray? into)
    {
        // Both float types have the GEMM-based kernels (matmul, convolutions) and pooling; softmax is float32's only.
        if (x.Length > 0 && x[0].DType is DType.Float32 or DType.Float64)
            switch (node.Op)
            {
                case MatMulOp m: return MatMul.Forward(x[0], x[1], m, into);
                case Conv2dOp c: return Conv.Forward(x[0], x[1], c.P, into);
                case ConvTranspose2dOp t: return Conv.Transposed(x[0], x[1], t.P, t.OutputPadding, into);
                case Conv2dFilterGradOp fg: return Conv.FilterGrad(x[0], x[1], fg.P, fg.KH, fg.KW, into);
                case Pool2dOp p: return Pool.Forward(x[0], p.P, into);
                case Pool2dGradOp pg: return Pool.Backward(x[0], x[1], pg.P, into);
                case SoftmaxOp sm when x[0].DType == DType.Float32: return Softmax.Forward(x[0], sm.Axis, sm.Log, into);
            }
        return node.Op switch
        {
            SliceOp sl => Shaping.Slice(x[0], sl, into),
            PadOp pd => Shaping.Pad(x[0], pd, into),
            ConcatOp cc => Shaping.Concat(x, cc, into),
            TransposeOp tr => Shaping.Transpose(x[0], tr, into),
            _ => null,
        };
    }

    /// <summary>
    /// One node: its library kernel where one exists, else its reference evaluation (copied into <paramref
    /// name="into"/> when given).
    /// </summary>
    public static NDArray[] Evaluate(Node node, NDArray[] x, EvalContext ctx, NDArray? into = null)
    {
        // A scan's step runs its nodes the same way, library kernels included.
        if (node.Op is ScanOp scan) return scan.Run(x, ScanOp.Copying(inputs => scan.Body.Step(inputs, (n, v) => Evaluate(n, v, ctx))));
        if (TryRun(node, x, into) is { } y) return [y];
        var outs = node.Op.Evaluate(ctx, x);
        if (into is not null) { Array.Copy(outs[0].Data, into.Data, into.Size); return [into]; }
        return outs;
    }
}
