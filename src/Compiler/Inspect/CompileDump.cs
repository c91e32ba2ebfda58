using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using GraphNet.Compiler.Backends.CSharp;

namespace GraphNet.Compiler;

/// <summary>
/// Writes one folder per compilation (GRAPHNET_DUMP_DIR or SessionOptions.DumpDirectory): the graph
/// before the pipeline and after each pass (text and DOT, numbered), the graph after fusion with
/// kernels as clusters, the fusion report, the memory plan, pass timings, the generated C#,
/// and a self-contained report.html.
/// </summary>
public static class CompileDump
{
    public static string Write(string root, Graph graph, CompileReport report)
    {
        var signature = string.Join("+", report.Optimized!.Fetches.Take(2).Select(f => Sanitize(f.Name)));
        var dir = Path.Combine(root, $"{Sanitize(graph.Name)}-{signature}-{report.CacheKey[..8]}");
        Directory.CreateDirectory(Path.Combine(dir, "passes"));
        int i = 0;
        foreach (var (pass, _, unit) in report.Passes)
        {
            if (unit is null) continue;
            var stem = Path.Combine(dir, "passes", $"{i++:D2}-{pass}");
            File.WriteAllText(stem + ".txt", unit.ToText());
            File.WriteAllText(stem + ".dot", GraphDot.Format(unit.Graph, title: $"after {pass}"));
        }
        var fusedDot = FusedDot(report);
        File.WriteAllText(Path.Combine(dir, "fused.dot"), fusedDot);
        File.WriteAllText(Path.Combine(dir, "fused.txt"), FusedText(report));
        string? svg = null;
        try
        {
            // A dump must not hang a training run on a huge layout (an unrolled LSTM's step has thousands of nodes).
            GraphDot.Render(fusedDot, Path.Combine(dir, "fused.svg"), TimeSpan.FromSeconds(30));
            svg = File.ReadAllText(Path.Combine(dir, "fused.svg"));
        }
        catch (GraphException e) { File.WriteAllText(Path.Combine(dir, "fused.svg.txt"), e.Message); }
        File.WriteAllText(Path.Combine(dir, "fusion.txt"), report.Fusion.Report());
        File.WriteAllText(Path.Combine(dir, "fusion.json"), FusionJson(report));
        File.WriteAllText(Path.Combine(dir, "memory.txt"), report.Memory!.Report(32));
        File.WriteAllText(Path.Combine(dir, "memory.json"), MemoryJson(report));
        File.WriteAllText(Path.Combine(dir, "timings.txt"), string.Join("\n", report.Passes.Select(p => $"{p.Pass,-16} {p.Time.TotalMilliseconds,10:F2} ms")) + $"\n{"total",-16} {report.Total.TotalMilliseconds,10:F2} ms\n");
        File.WriteAllText(Path.Combine(dir, "step.cs"), report.Source);
        File.WriteAllText(Path.Combine(dir, "report.html"), HtmlReport.Build(graph, report, svg));
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
    public static string FusedDot(CompileReport report)
    {
        var kernelOf = report.Kernels.SelectMany(k => k.Nodes.Select(n => (n, k))).ToDictionary(p => p.n, p => p.k);
        return GraphDot.Format(report.Optimized!.Graph,
            n => kernelOf.TryGetValue(n, out var k) ? ($"k{k.Index}", $"kernel {k.Index}: {k.Name}") : null,
            title: $"{report.Kernels.Count} kernels for {report.Optimized.Graph.Nodes.Count} ops (clusters are kernels)",
            urlOf: n => kernelOf.TryGetValue(n, out var k) ? $"#k{k.Index}" : null);
    }

    private static string FusedText(CompileReport report)
    {
        var sb = new StringBuilder();
        foreach (var k in report.Kernels)
        {
            sb.AppendLine($"kernel {k.Index} {k.Name} ({k.Kind.ToString().ToLowerInvariant()} over {k.Domain})");
            foreach (var n in k.Nodes) sb.AppendLine("  " + GraphText.FormatNode(n, withSource: true));
        }
        return sb.ToString();
    }

    // JSON is built by hand with JsonNode: file-based apps run without reflection-based serialization.
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static string FusionJson(CompileReport report) => new JsonObject
    {
        ["kernels"] = new JsonArray(report.Kernels.Select(k => (JsonNode)new JsonObject
        {
            ["index"] = k.Index, ["name"] = k.Name, ["kind"] = k.Kind.ToString().ToLowerInvariant(), ["domain"] = k.Domain.ToString(),
            ["nodes"] = new JsonArray(k.Nodes.Select(n => (JsonNode)new JsonObject
            {
                ["id"] = n.Id, ["op"] = n.Op.Name, ["name"] = n.Name, ["source"] = n.Source.ToString(), ["backwardOf"] = n.ForwardOf?.Name,
            }).ToArray()),
        }).ToArray()),
        ["decisions"] = new JsonArray(report.Fusion.Decisions.Select(d => (JsonNode)new JsonObject
        {
            ["node"] = d.Node.Id, ["op"] = d.Node.Op.Name, ["name"] = d.Node.Name, ["kernel"] = d.Group, ["reason"] = d.Reason,
        }).ToArray()),
    }.ToJsonString(Indented);

    private static string MemoryJson(CompileReport report)
    {
        var m = report.Memory!;
        return new JsonObject
        {
            ["batch"] = 32, ["arenaBytes"] = m.ArenaBytes(32), ["naiveBytes"] = m.NaiveBytes(32),
            ["buffers"] = new JsonArray(m.Slots.Select(s => (JsonNode)new JsonObject { ["index"] = s.Index, ["dtype"] = s.DType.ShortName(), ["elements"] = s.Elements(32) }).ToArray()),
            ["lifetimes"] = new JsonArray(m.Lifetimes.Select(l => (JsonNode)new JsonObject
            {
                ["tensor"] = l.Tensor.Name, ["node"] = l.Tensor.Node.Id, ["buffer"] = l.Slot.Index, ["firstKernel"] = l.Def, ["lastKernel"] = l.LastUse,
            }).ToArray()),
        }.ToJsonString(Indented);
    }

    /// <summary>Splits the generated source into the part of each kernel.</summary>
    public static Dictionary<int, string> KernelSources(string source)
    {
        var files = CSharpEmitter.Files(source).Skip(1).ToList();
        var result = new Dictionary<int, string>();
        foreach (var f in files)
        {
            int at = f.IndexOf("// kernel ", StringComparison.Ordinal);
            var digits = new string(f[(at + 10)..].TakeWhile(char.IsDigit).ToArray());
            if (int.TryParse(digits, NumberStyles.Integer, CultureInfo.InvariantCulture, out int k))
                result[k] = f[f.IndexOf("public sealed partial class", StringComparison.Ordinal)..];
        }
        return result;
    }
}
