namespace GraphNet.Compiler;

/// <summary>How the compiler treats a node.</summary>
public enum NodeClass
{
    /// <summary>A value that exists before the step: placeholder, variable or constant.</summary>
    Input,
    /// <summary>No work: a reshape, a group, or an assignment (the value is written back after the step).</summary>
    View,
    /// <summary>One element out from the same element (or a broadcast one) in: fusable into loops.</summary>
    Pointwise,
    /// <summary>A reduction over axes: a loop kernel that can absorb its producer and consumers.</summary>
    Reduce,
    /// <summary>A call of a runtime library kernel (GEMM, convolution, pooling, softmax).</summary>
    Library,
    /// <summary>Run through the op's reference evaluation.</summary>
    Reference,
}

public static class NodeClasses
{
    public static NodeClass Of(Node n)
    {
        var t = n.OutputTypes.Count > 0 ? n.OutputTypes[0].DType : DType.Float32;
        bool f32 = n.Inputs.Count > 0 && n.Inputs[0].DType == DType.Float32;
        bool f64 = n.Inputs.Count > 0 && n.Inputs[0].DType == DType.Float64;
        return n.Op switch
        {
            PlaceholderOp or VariableOp or ConstantOp => NodeClass.Input,
            ReshapeOp or GroupOp or AssignOp => NodeClass.View,
            UnaryOp or BinaryOp or WhereOp or DropoutOp or CountOfOp => t.IsFloat() ? NodeClass.Pointwise : NodeClass.Reference,
            BroadcastLikeOp when n.Inputs[0].DType.IsFloat() => NodeClass.Pointwise,
            CompareOp when n.Inputs[0].DType.IsFloat() => NodeClass.Pointwise,
            // A loop computes in one element type: a cast between float32 and float64 is a kernel of its own.
            CastOp c when c.To.IsFloat() && (n.Inputs[0].DType == c.To || n.Inputs[0].DType == DType.Bool) => NodeClass.Pointwise,
            CastOp c when c.To == DType.Bool && n.Inputs[0].DType.IsFloat() => NodeClass.Pointwise,
            OneHotOp o when o.DType.IsFloat() => NodeClass.Pointwise,
            ReduceOp when t.IsFloat() => NodeClass.Reduce,
            MatMulOp or Conv2dOp or ConvTranspose2dOp or Conv2dFilterGradOp or Pool2dOp or Pool2dGradOp or SoftmaxOp when f32 => NodeClass.Library,
            MatMulOp or Conv2dOp or ConvTranspose2dOp or Conv2dFilterGradOp or Pool2dOp or Pool2dGradOp when f64 => NodeClass.Library,
            _ when ReferenceOnly.Contains(n.Op.GetType()) || Lowered.Contains(n.Op.GetType()) => NodeClass.Reference,
            _ => throw new NotSupportedException($"the compiler does not know op type {n.Op.GetType().Name}: add it to NodeClasses"),
        };
    }

    /// <summary>Op types the C# backend lowers (to loops, reductions or library calls) for some dtypes.</summary>
    public static readonly IReadOnlySet<Type> Lowered = new HashSet<Type>
    {
        typeof(PlaceholderOp), typeof(VariableOp), typeof(ConstantOp), typeof(ReshapeOp), typeof(GroupOp), typeof(AssignOp),
        typeof(UnaryOp), typeof(BinaryOp), typeof(WhereOp), typeof(DropoutOp), typeof(CountOfOp), typeof(BroadcastLikeOp),
        typeof(CompareOp), typeof(CastOp), typeof(OneHotOp), typeof(ReduceOp), typeof(MatMulOp), typeof(Conv2dOp),
        typeof(ConvTranspose2dOp), typeof(Conv2dFilterGradOp), typeof(Pool2dOp), typeof(Pool2dGradOp), typeof(SoftmaxOp),
    };

    /// <summary>Op types the C# backend sends to the reference evaluation (rare, or data movement only).</summary>
    public static readonly IReadOnlySet<Type> ReferenceOnly = new HashSet<Type>
    {
        typeof(ArgMaxOp), typeof(TransposeOp), typeof(ConcatOp), typeof(SliceOp), typeof(PadOp), typeof(GatherOp), typeof(GatherGradOp),
        typeof(ScanOp), // its body is compiled on its own and run once per step (see ScanBodies)
        typeof(RandomOp), // drawn on the host by its reference evaluation, the same values on every backend
    };
}
