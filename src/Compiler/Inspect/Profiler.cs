using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace GraphNet.Compiler;

/// <summary>
/// Records one Chrome trace event per kernel run (open the JSON in Perfetto or chrome://tracing),
/// each carrying its nodes and user source lines. Enabled by SessionOptions.ProfilePath or
/// GRAPHNET_PROFILE=path; written when the session is disposed.
/// </summary>
public sealed class Profiler(string path, int maxEvents = 1_000_000)
{
    private readonly List<(string Name, long Start, long Ticks, int Kernel, Executable Exe)> events = [];
    private readonly long origin = Stopwatch.GetTimestamp();
    public string Path { get; } = path;
    public int Count => events.Count;

    internal void Add(Executable exe, int kernel, long start, long end)
    {
        if (events.Count < maxEvents) events.Add((exe.Kernels[kernel].Name, start - origin, end - start, kernel, exe));
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
            foreach (var (name, start, ticks, k, exe) in events)
            {
                var kernel = exe.Kernels[k];
                w.WriteStartObject();
                w.WriteString("name", name);
                w.WriteString("cat", kernel.Kind.ToString().ToLowerInvariant());
                w.WriteString("ph", "X");
                w.WriteNumber("ts", Math.Round(start * us, 3));
                w.WriteNumber("dur", Math.Round(ticks * us, 3));
                w.WriteNumber("pid", 1);
                w.WriteNumber("tid", 1);
                w.WriteStartObject("args");
                w.WriteString("nodes", string.Join("; ", kernel.Nodes.Select(n => $"%{n.Id} {n.Op.Name} '{n.Name}'")));
                w.WriteString("lines", string.Join(", ", kernel.SourceLines));
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        var full = System.IO.Path.GetFullPath(Path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full + ".tmp", ms.ToArray());
        File.Move(full + ".tmp", full, overwrite: true);
    }
}
