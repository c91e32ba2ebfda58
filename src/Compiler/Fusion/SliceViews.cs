namespace GraphNet.Compiler;

/// <summary>
/// How a loop reads or writes a tensor in place inside a larger buffer: element (c₀, …, c_{r−1})
/// of the tensor's shape is element Offset + Σ c_d·Strides[d] of <paramref name="Source"/>'s buffer.
/// </summary>
public sealed record LeafView(Tensor Source, int[] Strides, int Offset);

/// <summary>
/// Slices that are never copied. A slice is rows of its input: <c>outer</c> rows of
/// Length·inner contiguous elements, one every dim·inner. When every read of it (through reshapes)
/// is an element read by a pointwise node of the same shape, the loops of those nodes read the
/// rows straight from the input's buffer as a strided leaf, and the slice is a view like a
/// reshape: no kernel, no buffer. An unrolled LSTM slices its gate matrix four ways and its input
/// projection once per time step (139 copies a training step), each read by one fused loop.
/// </summary>
public static class SliceViews
{
    /// <summary>Whether this slice can be read in place by all its readers.</summary>
    public static bool Qualifies(Node slice, Dictionary<Tensor, List<Node>> consumers, HashSet<Tensor> fetched)
    {
        if (slice.Op is not SliceOp || !slice.Outputs[0].DType.IsFloat()) return false;
        var pending = new Stack<Tensor>();
        pending.Push(slice.Outputs[0]);
        while (pending.Count > 0)
        {
            var t = pending.Pop();
            if (fetched.Contains(t) || !consumers.TryGetValue(t, out var readers) || readers.Count == 0) return false;
            foreach (var reader in readers)
            {
                if (reader.Op is ReshapeOp) { pending.Push(reader.Outputs[0]); continue; }
                if (NodeClasses.Of(reader) != NodeClass.Pointwise || reader.OutputTypes[0].Shape != t.Shape) return false;
                for (int i = 0; i < reader.Inputs.Count; i++)
                    if (reader.Inputs[i] == t && Backends.LoopLeaves.IsSideInput(reader, i)) return false;
            }
            if (Layout(slice, t.Shape) is null) return false;
        }
        return true;
    }

    /// <summary>The slice a tensor is, or is a reshape of, when that slice is a view.</summary>
    public static Node? SliceOf(Tensor t, IReadOnlySet<Node> views)
    {
        var n = t.Node;
        while (n.Op is ReshapeOp) n = n.Inputs[0].Node;
        return views.Contains(n) ? n : null;
    }

    /// <summary>
    /// How a tensor of <paramref name="shape"/> (the slice's output or a reshape of it) reads the
    /// slice's input: its trailing dimensions must make up exactly one row of the slice (static
    /// sizes), and its leading ones step from row to row. Null when they do not line up.
    /// </summary>
    public static LeafView? Layout(Node slice, Shape shape)
    {
        var op = (SliceOp)slice.Op;
        return Layout(slice.Inputs[0], op.Axis, op.Start, op.Length, shape);
    }

    /// <summary>How a tensor of <paramref name="shape"/> lies in <paramref name="source"/> when it is the part [start, start+length) of an axis (a slice, or a piece of a concatenation).</summary>
    public static LeafView? Layout(Tensor source, int sliceAxis, int start, int length, Shape shape)
    {
        var s = source.Shape;
        int axis = sliceAxis < 0 ? sliceAxis + s.Rank : sliceAxis;
        if (s[axis] < 0) return null;
        long inner = 1;
        for (int d = axis + 1; d < s.Rank; d++)
        {
            if (s[d] < 0) return null;
            inner *= s[d];
        }
        long row = length * inner, sourceRow = s[axis] * inner;
        if (row == 0) return null;
        // The trailing dimensions that make up one row.
        int k = shape.Rank;
        long within = 1;
        while (k > 0 && within < row)
        {
            if (shape[k - 1] < 0) return null;
            within *= shape[--k];
        }
        if (within != row) return null;
        var strides = new int[shape.Rank];
        long stride = 1;
        for (int d = shape.Rank - 1; d >= k; d--) { strides[d] = (int)stride; stride *= shape[d]; }
        // Leading dimensions step over whole rows of the source; only the outermost may be the batch.
        stride = sourceRow;
        for (int d = k - 1; d >= 0; d--)
        {
            strides[d] = (int)stride;
            if (d > 0 && shape[d] < 0) return null;
            stride *= shape[d];
        }
        return new LeafView(source, strides, (int)(start * inner));
    }
}
