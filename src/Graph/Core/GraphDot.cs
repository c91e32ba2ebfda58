using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace GraphNet;

/// <summary>
/// Graphviz DOT for a graph: forward and backward nodes in different colours, placeholders,
/// variables and constants in their own shapes, tensor types on the edges, name scopes (or
/// any other grouping, such as fused kernels) as clusters.
/// </summary>
public static class GraphDot
{
    public const string ForwardColor = "#dbeafe", BackwardColor = "#fde2cf", PlaceholderColor = "#fef9c3", VariableColor = "#dcfce7", ConstantColor = "#f3f4f6";

    /// <param name="g">The graph.</param>
    /// <param name="clusterOf">Puts a node into a labelled cluster (null: none); default: its name scope.</param>
    /// <param name="title">A label for the whole drawing.</param>
    /// <param name="urlOf">A link for a node (for example its kernel in an HTML report).</param>
    public static string Format(Graph g, Func<Node, (string Id, string Label)?>? clusterOf = null, string? title = null, Func<Node, string?>? urlOf = null)
    {
        clusterOf ??= ScopeCluster;
        var sb = new StringBuilder();
        sb.AppendLine("digraph G {");
        sb.AppendLine("  rankdir=TB; newrank=true; fontname=\"Helvetica\"; fontsize=11;");
        if (title is not null) sb.AppendLine($"  label=\"{Escape(title)}\"; labelloc=t;");
        sb.AppendLine("  node [fontname=\"Helvetica\", fontsize=10, style=filled, shape=box];");
        sb.AppendLine("  edge [fontname=\"Helvetica\", fontsize=8, color=\"#6b7280\"];");
        var clusters = new Dictionary<string, (string Label, List<Node> Nodes)>();
        var loose = new List<Node>();
        foreach (var n in g.Nodes)
        {
            if (clusterOf(n) is { } c)
            {
                if (!clusters.TryGetValue(c.Id, out var entry)) clusters[c.Id] = entry = (c.Label, []);
                entry.Nodes.Add(n);
            }
            else loose.Add(n);
        }
        int ci = 0;
        foreach (var (id, (label, nodes)) in clusters)
        {
            sb.AppendLine($"  subgraph cluster_{ci++} {{ label=\"{Escape(label)}\"; style=\"rounded,dashed\"; color=\"#9ca3af\"; fontsize=10;");
            foreach (var n in nodes) sb.AppendLine("    " + NodeLine(n, urlOf?.Invoke(n)));
            sb.AppendLine("  }");
        }
        foreach (var n in loose) sb.AppendLine("  " + NodeLine(n, urlOf?.Invoke(n)));
        foreach (var n in g.Nodes)
            foreach (var i in n.Inputs)
                sb.AppendLine($"  n{i.Node.Id} -> n{n.Id} [label=\"{Escape(i.Type.ToString())}\"];");
        sb.AppendLine("}");
        return sb.ToString();
    }

    private static (string, string)? ScopeCluster(Node n)
    {
        string? scope = n.Op is VariableOp v && v.VarName.Contains('.') ? v.VarName[..v.VarName.IndexOf('.')]
            : n.Name.Contains('/') ? n.Name[..n.Name.LastIndexOf('/')] : null;
        return scope is null ? null : (scope, scope);
    }

    private static string NodeLine(Node n, string? url)
    {
        string label = n.Op switch
        {
            PlaceholderOp => $"{n.Name}\\n{n.OutputTypes[0]}",
            VariableOp v => $"{v.VarName}\\n{n.OutputTypes[0]}",
            ConstantOp c when c.Value.Size == 1 => GraphText.FormatValue(c.Value.GetDouble(0)),
            _ => $"%{n.Id} {n.Op.Name}\\n{n.Name}",
        };
        string style = n.Op switch
        {
            PlaceholderOp => $"shape=invhouse, fillcolor=\"{PlaceholderColor}\"",
            VariableOp => $"shape=cylinder, fillcolor=\"{VariableColor}\"",
            ConstantOp => $"shape=note, fillcolor=\"{ConstantColor}\", fontsize=8",
            _ when n.IsBackward => $"fillcolor=\"{BackwardColor}\"",
            _ => $"fillcolor=\"{ForwardColor}\"",
        };
        string tip = $"{n.Op.Name} '{n.Name}' at {n.Source}" + (n.ForwardOf is { } f ? $", backward of '{f.Name}'" : "");
        string link = url is null ? "" : $", URL=\"{Escape(url)}\"";
        return $"n{n.Id} [label=\"{Escape(label).Replace("\\\\n", "\\n")}\", {style}, tooltip=\"{Escape(tip)}\"{link}];";
    }

    /// <summary>The Graphviz program run by <see cref="Render"/> (tests point it elsewhere).</summary>
    internal static string DotProgram { get; set; } = "dot";

    public static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\"", "\\\"");

    /// <summary>
    /// Renders DOT with Graphviz's <c>dot</c> into <paramref name="path"/> (format from the extension:
    /// svg or png). The file is written whole or not at all. With a timeout, a layout that takes
    /// longer (dot is superlinear in the graph's size) is stopped and reported instead.
    /// </summary>
    public static void Render(string dot, string path, TimeSpan? timeout = null)
    {
        string format = Path.GetExtension(path).TrimStart('.').ToLowerInvariant();
        if (format is not ("svg" or "png" or "pdf")) throw new ArgumentException($"cannot render '{path}': use a .svg, .png or .pdf file name");
        var full = Path.GetFullPath(path);
        var tmp = AtomicFile.TempFor(full);
        var psi = new ProcessStartInfo(DotProgram, ["-T" + format, "-o", tmp])
        {
            RedirectStandardInput = true, RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
        };
        Process process;
        try { process = Process.Start(psi) ?? throw new Win32Exception(); }
        catch (Win32Exception)
        {
            throw new GraphException("Graphviz's 'dot' program was not found on PATH, so the graph cannot be drawn. Install Graphviz " +
                "(Debian/Ubuntu: sudo apt-get install graphviz), or write the DOT text with ToDot() and render it elsewhere.");
        }
        using (process)
        {
            var err = process.StandardError.ReadToEndAsync();
            process.StandardInput.Write(dot);
            process.StandardInput.Close();
            if (!process.WaitForExit(timeout ?? Timeout.InfiniteTimeSpan))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                File.Delete(tmp);
                throw new GraphException($"Graphviz's dot took longer than {timeout!.Value.TotalSeconds:F0} s to lay out {path} and was stopped; " +
                    "the graph is large: render its .dot file yourself (dot -Tsvg file.dot -o file.svg) or dump a smaller graph");
            }
            if (process.ExitCode != 0)
            {
                File.Delete(tmp);
                throw new GraphException($"Graphviz's dot failed (exit code {process.ExitCode}) rendering {path}: {err.Result.Trim()}");
            }
        }
        File.Move(tmp, full, overwrite: true);
    }
}
