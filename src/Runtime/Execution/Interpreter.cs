using GraphNet.Runtime.Kernels;

namespace GraphNet.Runtime;

/// <summary>
/// Runs a graph node by node: the runtime's library kernels where they exist (float32 matmul,
/// convolution, pooling, softmax), each op's reference evaluation elsewhere.
/// </summary>
public static class Interpreter
{
    /// <summary>Runs the plan; variable writes are committed when all nodes have run.</summary>
    public static NDArray[] Run(RunPlan plan, IReadOnlyDictionary<Tensor, NDArray> feeds, VariableStore variables, EvalContext ctx,
        bool checkNumerics = false, Action<Node, long, long>? onNode = null)
    {
        FeedCheck.Validate(plan.FedTensors, feeds);
        var values = new Dictionary<Tensor, NDArray>();
        var writes = new List<(string, NDArray)>();
        for (int s = 0; s < plan.Schedule.Length; s++)
        {
            var node = plan.Schedule[s];
            if (feeds.TryGetValue(node.Outputs[0], out var fed)) { values[node.Outputs[0]] = fed; continue; }
            NDArray[] outs;
            long start = onNode is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                outs = node.Op switch
                {
                    VariableOp v => [variables.Get(v.VarName)],
                    _ => Evaluate(node, node.Inputs.Select(i => values[i]).ToArray(), ctx),
                };
            }
            catch (Exception e) when (e is not GraphRunException)
            {
                throw new GraphRunException(node, e);
            }
            if (onNode is not null && node.Op is not (VariableOp or PlaceholderOp or ConstantOp)) onNode(node, start, System.Diagnostics.Stopwatch.GetTimestamp());
            if (checkNumerics && node.Op is not (VariableOp or PlaceholderOp or ConstantOp))
                foreach (var o in outs) NumericCheck.ThrowIfNotFinite(o, node);
            if (node.Op is AssignOp) writes.Add((((VariableOp)node.Inputs[0].Node.Op).VarName, outs[0]));
            for (int i = 0; i < outs.Length; i++) values[node.Outputs[i]] = outs[i];
            foreach (var dead in plan.Frees[s]) values.Remove(dead);
        }
        foreach (var (name, value) in writes) variables.Set(name, value);
        return plan.Fetches.Select(f => values[f]).ToArray();
    }

    /// <summary>One node: a library kernel for float32 where one exists, else the reference evaluation.</summary>
    public static NDArray[] Evaluate(Node node, NDArray[] x, EvalContext ctx, NDArray? into = null)
    {
        bool f32 = x.Length > 0 && x[0].DType == DType.Float32;
        if (f32)
            switch (node.Op)
            {
                case MatMulOp m: return [MatMul.Forward(x[0], x[1], m, into)];
                case Conv2dOp c: return [Conv.Forward(x[0], x[1], c.P, into)];
                case ConvTranspose2dOp t: return [Conv.Transposed(x[0], x[1], t.P, t.OutputPadding, into)];
                case Conv2dFilterGradOp fg: return [Conv.FilterGrad(x[0], x[1], fg.P, fg.KH, fg.KW, into)];
                case Pool2dOp p: return [Pool.Forward(x[0], p.P, into)];
                case Pool2dGradOp pg: return [Pool.Backward(x[0], x[1], pg.P, into)];
                case SoftmaxOp sm: return [Softmax.Forward(x[0], sm.Axis, sm.Log, into)];
            }
        switch (node.Op)
        {
            case SliceOp sl: return [Shaping.Slice(x[0], sl, into)];
            case PadOp pd: return [Shaping.Pad(x[0], pd, into)];
            case ConcatOp cc: return [Shaping.Concat(x, cc, into)];
        }
        var outs = node.Op.Evaluate(ctx, x);
        if (into is not null) { Array.Copy(outs[0].Data, into.Data, into.Size); return [into]; }
        return outs;
    }
}

/// <summary>An error while running a node, naming the node, its op and the user's source line.</summary>
public sealed class GraphRunException(Node node, Exception inner)
    : GraphException($"{inner.Message}\n  while running {node.Describe()}\n  inputs: {string.Join(", ", node.Inputs.Select(i => $"'{i.Name}' {i.Type}"))}", inner)
{
    public Node Node { get; } = node;
}

/// <summary>Checks feeds against their placeholders: dtype, rank, static sizes and one batch size.</summary>
public static class FeedCheck
{
    /// <summary>Checks the feeds and returns the batch size N they agree on (null when none has N).</summary>
    public static int? Validate(IReadOnlyList<Tensor> fed, IReadOnlyDictionary<Tensor, NDArray> feeds)
    {
        int? batch = null; Tensor? batchFrom = null;
        foreach (var t in fed)
        {
            var v = feeds[t];
            if (v.DType != t.DType)
                throw new GraphException($"feed for '{t.Name}' has dtype {v.DType.ShortName()} but the placeholder is {t.Type}; convert the data or the placeholder's dtype");
            if (v.Rank != t.Rank)
                throw new GraphException($"feed for '{t.Name}' has shape {v.ShapeString} but the placeholder is {t.Type} (rank {t.Rank})");
            for (int i = 0; i < t.Rank; i++)
            {
                int want = t.Shape[i];
                if (want == Shape.Batch)
                {
                    if (batch is null) { batch = v.Shape[i]; batchFrom = t; }
                    else if (batch != v.Shape[i])
                        throw new GraphException($"feed for '{t.Name}' has batch size {v.Shape[i]} but '{batchFrom!.Name}' has {batch}; all fed batch dimensions N must agree");
                }
                else if (want != v.Shape[i])
                    throw new GraphException($"feed for '{t.Name}' has shape {v.ShapeString} but the placeholder is {t.Type} (dimension {i}: {v.Shape[i]} vs {want})");
            }
        }
        return batch;
    }
}

/// <summary>Finds NaN and infinity in float tensors (the CheckNumerics option).</summary>
public static class NumericCheck
{
    /// <summary>The index of the first NaN or infinity, or -1.</summary>
    public static int FirstNonFinite(Array data, int length)
    {
        switch (data)
        {
            case float[] f: for (int i = 0; i < length; i++) if (!float.IsFinite(f[i])) return i; break;
            case double[] d: for (int i = 0; i < length; i++) if (!double.IsFinite(d[i])) return i; break;
        }
        return -1;
    }

    public static void ThrowIfNotFinite(NDArray value, Node node)
    {
        int i = FirstNonFinite(value.Data, value.Size);
        if (i >= 0)
            throw new GraphException($"CheckNumerics: {value.GetDouble(i)} appeared at element {i} of {node.Describe()} ({value.DType.ShortName()}{value.ShapeString}); " +
                $"it is the first node whose output is not finite. Its inputs: {string.Join(", ", node.Inputs.Select(t => $"'{t.Name}' {t.Type}"))}");
    }
}
