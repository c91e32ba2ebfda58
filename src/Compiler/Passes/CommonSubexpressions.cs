namespace GraphNet.Compiler.Passes;

/// <summary>
/// Merges nodes that apply the same op with the same attributes to the same inputs. Constants
/// merge only when their values are the same bits: they are grouped by dtype, shape and a hash
/// of their bytes, then compared byte for byte (a text key in the current culture once read
/// [1.5, 2] and [1, 5.2] alike under de-DE).
/// </summary>
public sealed class CommonSubexpressions : Pass
{
    public override string Name => "cse";

    public override Unit Run(Unit unit)
    {
        var seen = new Dictionary<string, Tensor[]>();
        var constants = new Dictionary<(DType, string, int), List<(NDArray Value, Tensor[] Outputs)>>();
        return Rewriter.Run(unit, (r, node, x) =>
        {
            if (node.Op is VariableOp or PlaceholderOp or AssignOp or GroupOp) return null;
            if (node.Op is ConstantOp { Value: var value })
            {
                var group = (value.DType, value.ShapeString, BytesHash(value));
                if (!constants.TryGetValue(group, out var same)) constants[group] = same = [];
                foreach (var (other, outputs) in same)
                    if (other.AsBytes().SequenceEqual(value.AsBytes())) return outputs;
                var copy = r.Copy(node, x);
                same.Add((value, copy));
                return copy;
            }
            string key = Key(node.Op, x);
            if (seen.TryGetValue(key, out var existing)) return existing;
            var outs = r.Copy(node, x);
            seen[key] = outs;
            return outs;
        });
    }

    private static int BytesHash(NDArray value)
    {
        var h = new HashCode();
        h.AddBytes(value.AsBytes());
        return h.ToHashCode();
    }

    /// <summary>The op, its attributes (formatted culture-free by GraphText) and its inputs.</summary>
    private static string Key(Op op, Tensor[] inputs)
    {
        var attrs = string.Join(",", op.Attributes().Select(a => $"{a.Name}={GraphText.FormatValue(a.Value)}"));
        return $"{op.Name}({string.Join(",", inputs.Select(i => $"{i.Node.Id}:{i.Index}"))}){{{attrs}}}";
    }
}
