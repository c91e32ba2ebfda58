using System.Globalization;
using System.Text;

namespace GraphNet;

/// <summary>The text form: <c>%12 = conv2d(%3, %7) {stride=[1,1]} : f32[N,32,26,26]  # conv1/conv2d</c>.</summary>
public static class GraphText
{
    public static string Format(Graph g, bool withSource = false)
    {
        var sb = new StringBuilder();
        foreach (var n in g.Nodes) sb.AppendLine(FormatNode(n, withSource));
        return sb.ToString();
    }

    public static string FormatNode(Node n, bool withSource = false)
    {
        var sb = new StringBuilder();
        sb.Append('%').Append(n.Id).Append(" = ").Append(n.Op.Name).Append('(');
        sb.Append(string.Join(", ", n.Inputs.Select(Ref)));
        sb.Append(')');
        var attrs = n.Op.Attributes().ToList();
        if (attrs.Count > 0)
            sb.Append(" {").Append(string.Join(", ", attrs.Select(a => $"{a.Name}={FormatValue(a.Value)}"))).Append('}');
        sb.Append(" : ");
        sb.Append(n.OutputTypes.Count == 1 ? n.OutputTypes[0].ToString() : "(" + string.Join(", ", n.OutputTypes) + ")");
        sb.Append("  # ").Append(n.Name);
        if (n.ForwardOf is { } f) sb.Append(" <- %").Append(f.Id);
        if (withSource) sb.Append(" @").Append(n.Source);
        return sb.ToString();
    }

    private static string Ref(Tensor t) => t.Node.OutputTypes.Count == 1 ? $"%{t.Node.Id}" : $"%{t.Node.Id}:{t.Index}";

    public static string FormatValue(object? v) => v switch
    {
        null => "none",
        bool b => b ? "true" : "false",
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        string s => s,
        int[] a => "[" + string.Join(",", a) + "]",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };
}
