using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace GraphNet.Compiler;

/// <summary>
/// Records one Chrome trace event per kernel run (open the JSON in Perfetto or chrome://tracing),
/// each carrying its nodes and user source lines; the interpreter and eager mode record one per node. Enabled by SessionOptions.ProfilePath or
/// GRAPHNET_PROFILE=path; written when the session is disposed.
/// </summary>
public sealed class Profiler(string path, int maxEvents = 1_000_000)
{
    private readonly List<(string Name, string Category, long Start, long Ticks, Func<(string Nodes, string Lines)> Args)> events = [];
    private readonly long origin = Stopwatch.GetTimestamp();
    public string Path { get; } = path;
    public int Count => events.Count;

    internal void Add(CompiledExecutable exe, int kernel, long start, long end)
    {
        var k = exe.Kernels[kernel];
        Add(k.Name, k.Kind.ToString().ToLowerInvariant(), start, end,
            () => (string.Join("; ", k.Nodes.Select(n => $"%{n.Id} {n.Op.Name} '{n.Name}'")), string.Join(", ", k.SourceLines)));
    }

    /// <summary>One node run by the interpreter or in eager mode: each node is its own kernel there.</summary>
    public void Add(Node node, long start, long end) =>
        Add($"{node.Op.Name} '{node.Name}'", "op", start, end,
            () => ($"%{node.Id} {node.Op.Name} '{node.Name}'", node.ForwardOf is { } f ? $"{f.Source} (backward)" : node.Source.ToString()));

    private void Add(string name, string category, long start, long end, Func<(string, string)> args)
    {
        lock (events) if (events.Count < maxEvents) events.Add((name, category, start - origin, end - start, args));
    }

    /// <summary>Writes the trace file (atomically).</summary>
    public void Write()
    {
        double us = 1e6 / Stopwatch.Frequency;
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = false }))
        {
            w.WriteStartObject();
            w.WriteString("displayTimeUnit", "ms");
            w.WriteStartArray("traceEvents");
            foreach (var (name, category, start, ticks, args) in events)
            {
                var (nodes, lines) = args();
                w.WriteStartObject();
                w.WriteString("name", name);
                w.WriteString("cat", category);
                w.WriteString("ph", "X");
                w.WriteNumber("ts", Math.Round(start * us, 3));
                w.WriteNumber("dur", Math.Round(ticks * us, 3));
                w.WriteNumber("pid", 1);
                w.WriteNumber("tid", 1);
                w.WriteStartObject("args");
                w.WriteString("nodes", nodes);
                w.WriteString("lines", lines);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        var full = System.IO.Path.GetFullPath(Path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        AtomicFile.WriteAllBytes(full, ms.ToArray());
    }
}
