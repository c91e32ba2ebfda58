namespace GraphNet;

public static partial class F
{
    public static Tensor MatMul(Tensor a, Tensor b, bool transA = false, bool transB = false) => a.Graph.Add1(new MatMulOp(transA, transB), [a, b]);

    public static Tensor Transpose(Tensor x, params int[] perm)
    {
        if (perm.Length == 0) perm = Enumerable.Range(0, x.Rank).Reverse().ToArray();
        return x.Graph.Add1(new TransposeOp(perm), [x]);
    }

    public static Tensor Reshape(Tensor x, params int[] shape) => x.Graph.Add1(new ReshapeOp(shape), [x]);

    /// <summary>Flattens all axes from <paramref name="startDim"/> on (PyTorch's default keeps the batch axis).</summary>
    public static Tensor Flatten(Tensor x, int startDim = 1)
    {
        var s = x.Shape;
        var target = s.Dims.Take(startDim).Select(d => d < 0 ? -1 : d).ToList();
        long rest = 1;
        for (int i = startDim; i < s.Rank; i++)
        {
            if (s[i] < 0) throw new GraphException($"flatten: cannot flatten the batch dimension of {s} (startDim={startDim})");
            rest *= s[i];
        }
        target.Add((int)rest);
        return Reshape(x, target.ToArray());
    }

    public static Tensor Concat(IReadOnlyList<Tensor> xs, int axis) => xs[0].Graph.Add1(new ConcatOp(axis), xs);
    public static Tensor Slice(Tensor x, int axis, int start, int length) => x.Graph.Add1(new SliceOp(axis, start, length), [x]);

    /// <summary>Constant padding with (before, after) pairs for every axis.</summary>
    public static Tensor Pad(Tensor x, int[] pads, double value = 0) => x.Graph.Add1(new PadOp(pads, value), [x]);

    public static Tensor Gather(Tensor param, Tensor indices, int axis = 0) => param.Graph.Add1(new GatherOp(axis), [param, indices]);
    public static Tensor OneHot(Tensor indices, int depth, DType dtype = DType.Float32) => indices.Graph.Add1(new OneHotOp(depth, dtype), [indices]);
}
