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

    /// <summary>One node: its library kernel where one exists, else its reference evaluation (see <see cref="Library"/>).</summary>
    public static NDArray[] Evaluate(Node node, NDArray[] x, EvalContext ctx, NDArray? into = null) => Library.Evaluate(node, x, ctx, into);
}

/// <summary>
/// An error while running a node, naming the node, its op and the user's source line
/// (<paramref name="at"/>, when the node did not record one: eager mode finds it on failure).
/// </summary>
public sealed class GraphRunException(Node node, Exception inner, SourceLocation? at = null)
    : GraphException($"{inner.Message}\n  while running {node.Op.Name} '{node.Name}' (at {at ?? node.Source})\n" +
        $"  inputs: {string.Join(", ", node.Inputs.Select(i => $"'{i.Name}' {i.Type}"))}", inner)
{
    public Node Node { get; } = node;
}

/// <summary>
/// Checks feeds against their placeholders (or an eager function's inputs against its specs): dtype, rank, static
/// sizes and one batch size.
/// </summary>
public static class FeedCheck
{
    /// <summary>Checks the feeds and returns the batch size N they agree on (null when none has N).</summary>
    public static int? Validate(IReadOnlyList<Tensor> fed, IReadOnlyDictionary<Tensor, NDArray> feeds)
    {
        int? batch = null; string? batchFrom = null;
        foreach (var t in fed) Check(t.Name, t.Type, feeds[t], ref batch, ref batchFrom);
        return batch;
    }

    /// <summary>The same checks and messages for values given by position, against (name, type) specs.</summary>
    public static int? Validate(IReadOnlyList<(string Name, TensorType Type)> specs, IReadOnlyList<NDArray> values)
    {
        int? batch = null; string? batchFrom = null;
        for (int i = 0; i < specs.Count; i++) Check(specs[i].Name, specs[i].Type, values[i], ref batch, ref batchFrom);
        return batch;
    }

    private static void Check(string name, TensorType type, NDArray v, ref int? batch, ref string? batchFrom)
    {
        if (v.DType != type.DType)
            throw new GraphException(
                $"feed for '{name}' has dtype {v.DType.ShortName()} but the placeholder is {type}; convert the data or the placeholder's dtype");
        if (v.Rank != type.Shape.Rank)
            throw new GraphException($"feed for '{name}' has shape {v.ShapeString} but the placeholder is {type} (rank {type.Shape.Rank})");
        for (int i = 0; i < type.Shape.Rank; i++)
        {
            int want = type.Shape[i];
            if (want < 0)
            {
                int k = -want, n = v.Shape[i] / k;
                if (v.Shape[i] % k != 0)
                    throw new GraphException($"feed for '{name}' has shape {v.ShapeString} but the placeholder is {type} " +
                        $"(dimension {i}: {v.Shape[i]} is not a multiple of {k})");
                if (batch is null) { batch = n; batchFrom = name; }
                else if (batch != n)
                    throw new GraphException(
                        $"feed for '{name}' has batch size {n} but '{batchFrom}' has {batch}; all fed batch dimensions N must agree");
            }
            else if (want != v.Shape[i])
                throw new GraphException(
                    $"feed for '{name}' has shape {v.ShapeString} but the placeholder is {type} (dimension {i}: {v.Shape[i]} vs {want})");
        }
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
