using System.Globalization;
using System.Net;
using System.Text;

namespace GraphNet.Compiler;

/// <summary>
/// A self-contained HTML page for one compilation: graph, kernels with their code and lines, fusion reasons,
/// memory timeline, stage timings.
/// </summary>
public static class HtmlReport
{
    public static string Build(Graph graph, CompileReport report, string? fusedSvg)
    {
        var inv = CultureInfo.InvariantCulture;
        string E(string s) => WebUtility.HtmlEncode(s);
        var memory = report.Memory!;
        var sb = new StringBuilder();
        sb.AppendLine("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">");
        sb.AppendLine($"<title>GraphNet compile report: {E(graph.Name)}</title>");
        sb.AppendLine("""
            <style>
            body{font-family:system-ui,Helvetica,Arial,sans-serif;margin:1.5em;color:#111}
            h1{font-size:1.4em} h2{margin-top:1.6em;border-bottom:1px solid #ddd}
            table{border-collapse:collapse;font-size:.9em} td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
            pre{background:#f6f8fa;padding:.6em;overflow:auto;font-size:.8em;max-height:32em}
            .kernel{border:1px solid #ccc;border-radius:6px;padding:.3em .8em;margin:.6em 0}
            .kernel:target{border-color:#f97316;box-shadow:0 0 0 3px #fed7aa}
            .graph{overflow:auto;max-height:60em;border:1px solid #eee} .muted{color:#666}
            nav ol{columns:2;font-size:.9em}
            </style></head><body>
            """);
        sb.AppendLine($"<h1>Compilation of <code>{E(graph.Name)}</code></h1>");
        sb.AppendLine(string.Create(inv, $"<p>{report.OpCount} ops in the graph, {report.Optimized!.Graph.Nodes.Count} after the graph passes, <b>{report.Kernels.Count} kernels</b>. Memory at batch 32: arena {memory.ArenaBytes(32):N0} bytes against {memory.NaiveBytes(32):N0} bytes naive. Compiled in {report.Total.TotalMilliseconds:F0} ms (compile cache: {E(report.Cache.Length == 0 ? "off" : report.Cache)}).</p>"));
        sb.AppendLine("<p class=\"muted\">Blue nodes run forward, orange ones backward; green cylinders are variables, yellow ones placeholders. Click a node or a kernel to see its code.</p>");

        sb.AppendLine("<h2>Graph after fusion</h2>");
        sb.AppendLine(fusedSvg is null ? "<p>Graphviz's <code>dot</code> was not found, so there is no drawing; <code>fused.dot</code> holds the DOT text.</p>"
            : $"<div class=\"graph\">{StripXmlHeader(fusedSvg)}</div>");

        sb.AppendLine("<h2>Kernels</h2><nav><ol start=\"0\">");
        foreach (var k in report.Kernels) sb.AppendLine($"<li><a href=\"#k{k.Index}\">{E(k.Name)}</a> <span class=\"muted\">{k.Nodes.Count()} nodes, {E(string.Join(", ", k.SourceLines))}</span></li>");
        sb.AppendLine("</ol></nav>");
        foreach (var k in report.Kernels)
        {
            sb.AppendLine($"<section class=\"kernel\" id=\"k{k.Index}\"><h3>Kernel {k.Index}: {E(k.Name)}</h3>");
            sb.AppendLine($"<p>{E(k.Kind.ToString().ToLowerInvariant())} over {E(k.Domain.ToString())}; user lines: {E(string.Join(", ", k.SourceLines))}</p>");
            var cost = KernelCost.Of(k, 32);
            sb.AppendLine(string.Create(inv, $"<p>Work at batch 32: {cost.Flops / 1e6:F3} MFLOP, {cost.Bytes / 1e3:F1} KB moved " +
                $"({(cost.Bytes > 0 ? cost.Flops / cost.Bytes : 0):F2} FLOPs per byte; the profiler's report shows what it reaches).</p>"));
            sb.AppendLine("<table><tr><th>node</th><th>op</th><th>name</th><th>type</th><th>source</th><th>backward of</th></tr>");
            foreach (var n in k.Nodes)
                sb.AppendLine($"<tr><td>%{n.Id}</td><td>{E(n.Op.Name)}</td><td>{E(n.Name)}</td><td>{E(n.OutputTypes[0].ToString())}</td><td>{E(n.Source.ToString())}</td><td>{E(n.ForwardOf is { } f ? $"{f.Name} ({f.Source})" : "")}</td></tr>");
            sb.AppendLine("</table>");
            var code = report.Code.FileOf(k.Index)?.Text ?? "(not found)";
            sb.AppendLine($"<details><summary>generated code</summary><pre>{E(code)}</pre></details></section>");
        }

        sb.AppendLine("<h2>Fusion decisions</h2><table><tr><th>node</th><th>op</th><th>name</th><th>kernel</th><th>reason</th></tr>");
        foreach (var d in report.Fusion.Decisions)
            sb.AppendLine($"<tr><td>%{d.Node.Id}</td><td>{E(d.Node.Op.Name)}</td><td>{E(d.Node.Name)}</td><td>{(d.Group >= 0 ? $"<a href=\"#k{KernelIndexOf(report, d.Node)}\">{KernelIndexOf(report, d.Node)}</a>" : "")}</td><td>{E(d.Reason)}</td></tr>");
        sb.AppendLine("</table>");

        sb.AppendLine("<h2>Memory timeline</h2>");
        sb.AppendLine(string.Create(inv, $"<p>Each row is a buffer; each bar a value living in it from the kernel that writes it to the last kernel that reads it (batch 32). Arena {memory.ArenaBytes(32):N0} bytes in {memory.Slots.Count} buffers; naive {memory.NaiveBytes(32):N0} bytes.</p>"));
        sb.AppendLine(MemorySvg(report));

        sb.AppendLine("<h2>Stage timings</h2><table><tr><th>stage</th><th>ms</th></tr>");
        foreach (var (p, t) in report.Stages) sb.AppendLine(string.Create(inv, $"<tr><td>{E(p)}</td><td>{t.TotalMilliseconds:F2}</td></tr>"));
        sb.AppendLine(string.Create(inv, $"<tr><th>total</th><th>{report.Total.TotalMilliseconds:F2}</th></tr></table>"));
        sb.AppendLine("</body></html>");
        return sb.ToString();
    }

    private static int KernelIndexOf(CompileReport report, Node n) => report.Kernels.FirstOrDefault(k => k.Nodes.Contains(n))?.Index ?? -1;

    private static string StripXmlHeader(string svg)
    {
        // Scale the drawing to the page width; its viewBox keeps the proportions.
        int at = svg.IndexOf("<svg", StringComparison.Ordinal);
        svg = at >= 0 ? svg[at..] : svg;
        return System.Text.RegularExpressions.Regex.Replace(svg, "^<svg width=\"[^\"]*\" height=\"[^\"]*\"", "<svg width=\"100%\"");
    }

    private static string MemorySvg(CompileReport report)
    {
        var inv = CultureInfo.InvariantCulture;
        var m = report.Memory!;
        int kernels = Math.Max(1, report.Kernels.Count), rows = Math.Max(1, m.Slots.Count);
        const int left = 90, rowH = 16, width = 900;
        double col = (double)(width - left - 10) / kernels;
        var sb = new StringBuilder();
        sb.AppendLine(string.Create(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{rows * rowH + 30}\" font-family=\"Helvetica\" font-size=\"10\">"));
        for (int k = 0; k <= kernels; k += Math.Max(1, kernels / 20))
            sb.AppendLine(string.Create(inv, $"<text x=\"{left + k * col:F1}\" y=\"{rows * rowH + 22}\" fill=\"#666\">k{k}</text>"));
        foreach (var s in m.Slots)
            sb.AppendLine(string.Create(inv, $"<text x=\"2\" y=\"{s.Index * rowH + 12}\">buf {s.Index} ({s.Elements(32) * s.DType.SizeInBytes() / 1024.0:F0} KB)</text>"));
        string[] palette = ["#60a5fa", "#f97316", "#34d399", "#a78bfa", "#f472b6", "#facc15"];
        int i = 0;
        foreach (var (t, slot, def, last) in m.Lifetimes.OrderBy(l => l.Def))
        {
            double x = left + Math.Max(0, def) * col, w = Math.Max(col * 0.8, (Math.Max(last, def) - Math.Max(0, def) + 1) * col - 1);
            sb.AppendLine(string.Create(inv, $"<rect x=\"{x:F1}\" y=\"{slot.Index * rowH + 2}\" width=\"{w:F1}\" height=\"{rowH - 4}\" fill=\"{palette[i++ % palette.Length]}\"><title>%{t.Node.Id} {WebUtility.HtmlEncode(t.Name)} {t.Type}: kernels {def}..{last}</title></rect>"));
        }
        sb.AppendLine("</svg>");
        return sb.ToString();
    }
}
