namespace GraphNet;

public static partial class F
{
    /// <summary>
    /// A loop over a sequence axis, as JAX's <c>lax.scan</c> and TF1's <c>tf.scan</c>:
    /// <paramref name="body"/> maps (carries, one step of each sequence) to (next carries, the
    /// step's outputs). Returns the final carries and each output stacked along <paramref
    /// name="axis"/> (deferred, the loop runs time-major whatever the axis: the sequences are
    /// transposed in and the outputs out). The body is built once as a graph of its own and
    /// compiled once for any length; tensors from around it (weights) may be used in it freely.
    /// The length comes from the sequences (it may be the symbolic N, so a new length does not
    /// recompile), or from <paramref name="length"/> when there are none. <paramref
    /// name="recompute"/>: the gradient keeps only each step's carries and recomputes the rest of
    /// the step (less memory) instead of keeping every value the backward step reads. In eager
    /// mode the body runs step by step, as a Python loop would in PyTorch.
    /// </summary>
    public static (Tensor[] Carries, Tensor[] Ys) Scan(Func<Tensor[], Tensor[], (Tensor[] Carries, Tensor[] Ys)> body,
        IReadOnlyList<Tensor> init, IReadOnlyList<Tensor> xs, int axis = 0, int? length = null, bool reverse = false,
        bool recompute = false, string name = "scan")
    {
        var g = init.Concat(xs).FirstOrDefault()?.Graph
            ?? throw new GraphException("F.Scan needs at least one initial carry or sequence");
        var at = SourceLocation.Capture();
        foreach (var x in xs)
            if (axis < 0 || axis >= x.Rank)
                throw new GraphException($"F.Scan (at {at}): axis {axis} is out of range for sequence '{x.Name}' {x.Type}");
        int steps = xs.Count > 0 ? xs[0].Shape[axis] : length
            ?? throw new GraphException($"F.Scan (at {at}): with no sequences, give the number of steps as length");
        foreach (var x in xs)
            if (x.Shape[axis] != steps)
                throw new GraphException($"F.Scan (at {at}): sequences differ in length along axis {axis}: " +
                    $"'{xs[0].Name}' {xs[0].Type} and '{x.Name}' {x.Type}");
        if (steps < Shape.Batch)
            throw new GraphException($"F.Scan (at {at}): the sequences' length is {Shape.Dim(steps)}, a multiple of the batch; " +
                "scan along a static axis or along N itself");
        if (length is { } l && l != steps)
            throw new GraphException($"F.Scan (at {at}): length {l} differs from the sequences' {Shape.Dim(steps)} steps");
        if (g.Eager is not null) return ScanEagerly(body, init, xs, axis, steps, reverse);
        if (axis == 0) return ScanDeferred(g, body, init, xs, 0, steps, reverse, recompute, name, at);
        // Time-major inside: each step's slice, each stacked output and every residual the gradient
        // keeps per step is then one contiguous block, not a strided row per index before the axis.
        // The two transposes are one pass over the sequences each.
        var (carries, ys) = ScanDeferred(g, body, init, xs.Select(x => Transpose(x, ToFront(x.Rank, axis))).ToArray(), 0, steps,
            reverse, recompute, name, at);
        return (carries, ys.Select(y => Transpose(y, FromFront(y.Rank, axis))).ToArray());
    }

    /// <summary>The permutation that moves <paramref name="axis"/> to the front, the others keeping their order.</summary>
    private static int[] ToFront(int rank, int axis) => [axis, .. Enumerable.Range(0, rank).Where(d => d != axis)];

    /// <summary>The inverse of <see cref="ToFront"/>: the front axis goes back to <paramref name="axis"/>.</summary>
    private static int[] FromFront(int rank, int axis) =>
        Enumerable.Range(0, rank).Select(d => d < axis ? d + 1 : d == axis ? 0 : d).ToArray();

    private static (Tensor[], Tensor[]) ScanDeferred(Graph g, Func<Tensor[], Tensor[], (Tensor[], Tensor[])> body,
        IReadOnlyList<Tensor> init, IReadOnlyList<Tensor> xs, int axis, int steps, bool reverse, bool recompute, string name, SourceLocation at)
    {
        var b = Graph.BodyOf(g, name);
        var carries = init.Select((c, i) => b.Placeholder(c.DType, c.Shape.ToArray(), $"carry{i}")).ToArray();
        var slices = xs.Select((x, i) => b.Placeholder(x.DType, x.Shape.Dims.Where((_, d) => d != axis).ToArray(), $"x{i}")).ToArray();
        var (carryOut, ys) = body(carries, slices);
        if (carryOut.Length != carries.Length)
            throw new GraphException($"F.Scan (at {at}): the body returns {carryOut.Length} carries for {carries.Length} given");
        // Outputs made outside the body (a weight returned as is) are captured like any other use.
        carryOut = carryOut.Select(b.Capture).ToArray();
        ys = ys.Select(b.Capture).ToArray();
        var captures = b.Captures.ToArray();
        var scanBody = new ScanBody(b, carries, slices, captures.Select(c => c.Inner).ToArray(), carryOut, ys);
        if (steps < 0 && scanBody.Inputs.Concat(scanBody.Outputs).Any(t => t.Shape.IsSymbolic))
            throw new GraphException($"F.Scan (at {at}): the sequences' length is the symbolic N, so the body cannot use N as well " +
                "(one graph has one symbolic dimension); give the batch a fixed size or the sequences a fixed length");
        var op = new ScanOp(scanBody, steps, axis, reverse, Recompute: recompute);
        var node = g.AddNode(op, [.. init, .. xs, .. captures.Select(c => c.Outer)], name);
        return (node.Outputs.Take(carries.Length).ToArray(), node.Outputs.Skip(carries.Length).ToArray());
    }

    private static (Tensor[], Tensor[]) ScanEagerly(Func<Tensor[], Tensor[], (Tensor[], Tensor[])> body,
        IReadOnlyList<Tensor> init, IReadOnlyList<Tensor> xs, int axis, int steps, bool reverse)
    {
        var carries = init.ToArray();
        var outputs = new List<Tensor>[0];
        for (int s = 0; s < steps; s++)
        {
            int t = reverse ? steps - 1 - s : s;
            var slices = xs.Select(x => Reshape(Slice(x, axis, t, 1), x.Shape.Dims.Where((_, d) => d != axis).ToArray())).ToArray();
            (carries, var ys) = body(carries, slices);
            if (s == 0) outputs = ys.Select(_ => new List<Tensor>()).ToArray();
            for (int i = 0; i < ys.Length; i++)
            {
                var dims = ys[i].Shape.Dims.ToList();
                dims.Insert(axis, 1);
                outputs[i].Add(Reshape(ys[i], ReshapeTarget(new Shape([.. dims]))));
            }
        }
        if (reverse) foreach (var o in outputs) o.Reverse();
        return (carries, outputs.Select(o => o.Count == 1 ? o[0] : Concat(o, axis)).ToArray());
    }
}
