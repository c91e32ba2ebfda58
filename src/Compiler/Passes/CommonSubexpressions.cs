namespace GraphNet.Compiler.Passes;

/// <summary>Merges nodes that apply the same op with the same attributes to the same inputs.</summary>
public sealed class CommonSubexpressions : Pass
{
    public override string Name => "cse";

    public override Unit Run(Unit unit)
    {
        var seen = new Dictionary<string, Tensor[]>();
        return Rewriter.Run(unit, (r, node, x) =>
        {
            if (node.Op is VariableOp or PlaceholderOp or AssignOp or GroupOp) return null;
            string key = Key(node.Op, x);
            if (seen.TryGetValue(key, out var existing)) return existing;
            var outs = r.Copy(node, x);
            seen[key] = outs;
            return outs;
        });
    }

    private static string Key(Op op, Tensor[] inputs)
    {
        var attrs = string.Join(",", op.Attributes().Select(a => $"{a.Name}={GraphText.FormatValue(a.Value)}"));
        if (op is ConstantOp c)
            attrs = c.Value.DType + c.Value.ShapeString + (c.Value.Size <= 64 ? string.Join(",", c.Value.ToDoubleArray()) : "#" + c.Value.GetHashCode());
        return $"{op.Name}({string.Join(",", inputs.Select(i => $"{i.Node.Id}:{i.Index}"))}){{{attrs}}}";
    }
}
