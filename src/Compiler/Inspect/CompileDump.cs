using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace GraphNet.Compiler;

/// <summary>
/// Writes one folder per compilation (GRAPHNET_DUMP_DIR or SessionOptions.DumpDirectory): every
/// stage's output, numbered in pipeline order (<c>NN-stage.ext</c>: each graph pass's text and
/// DOT, the fusion decisions, the kernels, the memory plan, the generated code, the build and
/// the load), then the fused graph drawn with kernels as clusters, the stage timings and a
/// self-contained report.html.
/// </summary>
public static class CompileDump
{
    internal static string Write(string root, Compilation c, IEnumerable<(string File, Func<string> Text)> stageFiles)
    {
        var report = c.Report;
        var signature = string.Join("+", c.UserFetches.Take(2).Select(f => Sanitize(f.Name)));
        var tag = report.CacheKey.Length >= 8 ? report.CacheKey[..8] : "failed-" + DateTime.UtcNow.ToString("HHmmssfff");
        var dir = Path.Combine(root, $"{Sanitize(c.Graph.Name)}-{signature}-{tag}");
        Directory.CreateDirectory(Path.Combine(dir, "stages"));
        foreach (var (file, text) in stageFiles) File.WriteAllText(Path.Combine(dir, "stages", file), text());
        var timings = report.Stages.Select(p => $"{p.Stage,-22} {p.Time.TotalMilliseconds,10:F2} ms")
            .Append($"{"total",-22} {report.Total.TotalMilliseconds,10:F2} ms");
        File.WriteAllText(Path.Combine(dir, "timings.txt"), string.Join("\n", timings) + "\n");
        if (report.Memory is not null && report.Optimized is not null)
        {
            string? svg = null;
            try
            {
                // A dump must not hang a training run on a huge layout (an unrolled LSTM's step has thousands of nodes).
                var svgPath = Path.Combine(dir, "fused.svg");
                GraphDot.Render(FusedDot(report.Optimized, report.Kernels), svgPath, TimeSpan.FromSeconds(30));
                svg = File.ReadAllText(svgPath);
            }
            catch (GraphException e) { File.WriteAllText(Path.Combine(dir, "fused.svg.txt"), e.Message); }
            try { File.WriteAllText(Path.Combine(dir, "report.html"), HtmlReport.Build(c.Graph, report, svg)); }
            // No code: the compilation failed before generating it.
            catch (InvalidOperationException e) { File.WriteAllText(Path.Combine(dir, "report.html.txt"), e.Message); }
        }
        DebugLog.Write(1, $"dumped compilation to {dir}");
        return dir;
    }

    private static string Sanitize(string s)
    {
        var sb = new StringBuilder();
        foreach (var c in s) sb.Append(char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        return sb.Length == 0 ? "graph" : sb.ToString();
    }

    /// <summary>The optimized graph with every kernel drawn as a cluster; nodes link to their kernel in report.html.</summary>
    public static string FusedDot(Unit unit, IReadOnlyList<Kernel> kernels)
    {
        var kernelOf = kernels.SelectMany(k => k.Nodes.Select(n => (n, k))).ToDictionary(p => p.n, p => p.k);
        return GraphDot.Format(unit.Graph,
            n => kernelOf.TryGetValue(n, out var k) ? ($"k{k.Index}", $"kernel {k.Index}: {k.Name}") : null,
            title: $"{kernels.Count} kernels for {unit.Graph.Nodes.Count} ops (clusters are kernels)",
            urlOf: n => kernelOf.TryGetValue(n, out var k) ? $"#k{k.Index}" : null);
    }

    // JSON is built by hand with JsonNode: file-based apps run without reflection-based serialization.
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    internal static string FusionJson(FusionPlan plan) => new JsonObject
    {
        ["groups"] = new JsonArray(plan.Groups.Select(g => (JsonNode)new JsonObject
        {
            ["id"] = g.Id, ["domain"] = g.Domain.ToString(), ["anchor"] = g.Anchor?.Id,
            ["nodes"] = new JsonArray(g.Nodes.Select(n => (JsonNode)new JsonObject
            {
                ["id"] = n.Id, ["op"] = n.Op.Name, ["name"] = n.Name, ["source"] = n.Source.ToString(), ["backwardOf"] = n.ForwardOf?.Name,
            }).ToArray()),
        }).ToArray()),
        ["decisions"] = new JsonArray(plan.Decisions.Select(d => (JsonNode)new JsonObject
        {
            ["node"] = d.Node.Id, ["op"] = d.Node.Op.Name, ["name"] = d.Node.Name, ["group"] = d.Group, ["reason"] = d.Reason,
        }).ToArray()),
    }.ToJsonString(Indented);

    internal static string MemoryJson(MemoryPlan m) => new JsonObject
    {
        ["batch"] = 32, ["arenaBytes"] = m.ArenaBytes(32), ["naiveBytes"] = m.NaiveBytes(32),
        ["buffers"] = new JsonArray(m.Slots.Select(s => (JsonNode)new JsonObject
        {
            ["index"] = s.Index, ["dtype"] = s.DType.ShortName(), ["elements"] = s.Elements(32),
        }).ToArray()),
        ["lifetimes"] = new JsonArray(m.Lifetimes.Select(l => (JsonNode)new JsonObject
        {
            ["tensor"] = l.Tensor.Name, ["node"] = l.Tensor.Node.Id, ["buffer"] = l.Slot.Index, ["firstKernel"] = l.Def, ["lastKernel"] = l.LastUse,
        }).ToArray()),
    }.ToJsonString(Indented);
}
