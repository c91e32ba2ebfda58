using System.Globalization;
using System.Net;
using System.Text;
using GraphNet.Runtime;

namespace GraphNet.Compiler;

/// <summary>
/// The profiler's HTML page: every kernel by total time, with the GFLOP/s and GB/s it reached, their
/// fractions of the machine's peak and bandwidth, its bound on the roofline (compute when its FLOPs
/// per byte reach the machine's balance) and how near it came to that roof.
/// </summary>
public static class ProfileReport
{
    /// <summary>One kernel's runs: their count, total time and total cost (null where it cannot be counted).</summary>
    public sealed record Row(string Name, string Category, string Lines, int Calls, double Seconds, Cost? Cost);

    public static string Build(IReadOnlyList<Row> rows, MachineLimits limits)
    {
        var inv = CultureInfo.InvariantCulture;
        string E(string s) => WebUtility.HtmlEncode(s);
        double total = rows.Sum(r => r.Seconds);
        var counted = rows.Where(r => r.Cost is not null).ToList();
        double flops = counted.Sum(r => r.Cost!.Value.Flops), countedSeconds = counted.Sum(r => r.Seconds);
        var sb = new StringBuilder();
        sb.AppendLine("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>GraphNet profile</title>");
        sb.AppendLine("""
            <style>
            body{font-family:system-ui,Helvetica,Arial,sans-serif;margin:1.5em;color:#111}
            table{border-collapse:collapse;font-size:.85em} td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}
            td.l,th.l{text-align:left} .bar{background:#93c5fd;height:.8em;display:inline-block}
            .compute{color:#b45309} .memory{color:#1d4ed8} .muted{color:#666}
            </style></head><body>
            """);
        sb.AppendLine("<h1>Kernels by time</h1>");
        sb.AppendLine(string.Create(inv, $"<p>Machine (measured): {limits.PeakGflops:F0} GFLOP/s FP32 peak on all cores " +
            $"({limits.PeakGflopsPerCore:F0} on one), {limits.BandwidthGBs:F1} GB/s memory bandwidth; a kernel doing more than " +
            $"{limits.Balance:F1} FLOPs per byte is compute-bound.</p>"));
        sb.AppendLine(string.Create(inv, $"<p>{rows.Sum(r => r.Calls):N0} kernel runs, {total * 1e3:F1} ms in all; " +
            $"{flops / 1e9:F2} GFLOP counted, {(countedSeconds > 0 ? flops / countedSeconds / 1e9 : 0):F1} GFLOP/s over those kernels' time, " +
            $"{(countedSeconds > 0 ? flops / countedSeconds / 1e9 / limits.PeakGflops : 0):P1} of peak.</p>"));
        sb.AppendLine("<p class=\"muted\">Bytes are each kernel's compulsory traffic (every input read once, every output written once), " +
            "so GB/s is a lower bound. \"Of roof\" is the GFLOP/s reached over the roofline's limit at the kernel's FLOPs per byte: " +
            "min(peak, bandwidth × FLOPs per byte).</p>");
        sb.AppendLine("<table><tr><th class=\"l\">kernel</th><th class=\"l\">kind</th><th>runs</th><th>total ms</th><th class=\"l\">share</th>" +
            "<th>µs per run</th><th>MFLOP per run</th><th>KB per run</th><th>GFLOP/s</th><th>GB/s</th><th>of peak</th><th>of bandwidth</th>" +
            "<th class=\"l\">bound</th><th>of roof</th><th class=\"l\">lines</th></tr>");
        foreach (var r in rows)
        {
            double share = total > 0 ? r.Seconds / total : 0;
            sb.Append(string.Create(inv, $"<tr><td class=\"l\">{E(r.Name)}</td><td class=\"l\">{E(r.Category)}</td><td>{r.Calls}</td>" +
                $"<td>{r.Seconds * 1e3:F2}</td><td class=\"l\"><span class=\"bar\" style=\"width:{share * 12:F2}em\"></span> {share:P1}</td>" +
                $"<td>{r.Seconds / r.Calls * 1e6:F1}</td>"));
            if (r.Cost is { } c)
            {
                var a = Achieved.Of(c, r.Seconds, limits);
                sb.Append(string.Create(inv, $"<td>{c.Flops / r.Calls / 1e6:F3}</td><td>{c.Bytes / r.Calls / 1e3:F1}</td>" +
                    $"<td>{a.Gflops:F1}</td><td>{a.GBs:F1}</td><td>{a.PeakFraction:P1}</td><td>{a.BandwidthFraction:P1}</td>" +
                    $"<td class=\"l {a.Bound}\">{a.Bound}</td><td>{a.RoofFraction:P1}</td>"));
            }
            else sb.Append("<td colspan=\"8\" class=\"l muted\">not counted (symbolic shapes)</td>");
            sb.AppendLine($"<td class=\"l\">{E(r.Lines)}</td></tr>");
        }
        sb.AppendLine("</table></body></html>");
        return sb.ToString();
    }
}
