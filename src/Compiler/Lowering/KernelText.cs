namespace GraphNet.Compiler;

/// <summary>Kernels as text: each with its kind and domain, then its nodes with their user lines (dumps and golden tests).</summary>
public static class KernelText
{
    public static string Format(IEnumerable<Kernel> kernels)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var k in kernels)
        {
            sb.AppendLine($"kernel {k.Index} {k.Name} ({k.Kind.ToString().ToLowerInvariant()} over {k.Domain})" +
                (k.Absorbed is { } a ? $", the call applies {string.Join(" and ", a.Nodes.Select(n => n.Op.Name))}" : ""));
            foreach (var n in k.Nodes) sb.AppendLine("  " + GraphText.FormatNode(n, withSource: true));
        }
        return sb.ToString();
    }
}
