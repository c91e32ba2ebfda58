using System.Diagnostics;
using GraphNet.Runtime;
using System.Text;
using System.Text.Json;

namespace GraphNet.Compiler;

/// <summary>
/// Records one Chrome trace event per kernel run (open the JSON in Perfetto or chrome://tracing),
/// each carrying its nodes and user source lines, its FLOPs and bytes (<see cref="KernelCost"/>), the
/// GFLOP/s and GB/s it reached, their fractions of the machine's measured peak and bandwidth
/// (<see cref="MachineLimits"/>) and whether its FLOPs per byte make it compute- or memory-bound;
/// the interpreter and eager mode record one per node. Beside the trace it writes a report
/// (<c>.html</c>): the kernels by total time with the same figures. Enabled by
/// SessionOptions.ProfilePath or GRAPHNET_PROFILE=path; written when the session is disposed.
/// </summary>
public sealed class Profiler(string path, int maxEvents = 1_000_000)
{
    private readonly List<Event> events = [];
    private readonly long origin = Stopwatch.GetTimestamp();
    public string Path { get; } = path;
    public int Count => events.Count;

    /// <summary>One run; its key (a <see cref="KernelRun"/> or an interpreted node) groups the runs of one kernel and gives their cost.</summary>
    private sealed record Event(string Name, string Category, long Start, long Ticks, object Key, Func<(string Nodes, string Lines)> Args);

    private sealed record KernelRun(Kernel Kernel, int Batch);

    internal void Add(CompiledExecutable exe, int kernel, int batch, long start, long end)
    {
        var k = exe.Kernels[kernel];
        Add(k.Name, k.Kind.ToString().ToLowerInvariant(), start, end, new KernelRun(k, batch),
            () => (string.Join("; ", k.Nodes.Select(n => $"%{n.Id} {n.Op.Name} '{n.Name}'")), string.Join(", ", k.SourceLines)));
    }

    /// <summary>One node run by the interpreter or in eager mode: each node is its own kernel there.</summary>
    public void Add(Node node, long start, long end) =>
        Add($"{node.Op.Name} '{node.Name}'", "op", start, end, node,
            () => ($"%{node.Id} {node.Op.Name} '{node.Name}'", node.ForwardOf is { } f ? $"{f.Source} (backward)" : node.Source.ToString()));

    private void Add(string name, string category, long start, long end, object key, Func<(string, string)> args)
    {
        lock (events) if (events.Count < maxEvents) events.Add(new Event(name, category, start - origin, end - start, key, args));
    }

    /// <summary>A kernel's cost at its batch; an interpreted node's when its shapes are static (its batch is not recorded).</summary>
    private static Cost? CostOf(object key) => key switch
    {
        KernelRun r => KernelCost.Of(r.Kernel, r.Batch),
        Node n when !n.Inputs.Any(t => t.Shape.IsSymbolic) && !n.OutputTypes.Any(t => t.Shape.IsSymbolic) => KernelCost.Of(n, 1),
        _ => null,
    };

    /// <summary>Writes the trace file and its report (atomically).</summary>
    public void Write()
    {
        double us = 1e6 / Stopwatch.Frequency;
        var limits = events.Count > 0 ? MachineLimits.Current : null;
        var costs = new Dictionary<object, Cost?>();
        Cost? Costed(Event e) => costs.TryGetValue(e.Key, out var c) ? c : costs[e.Key] = CostOf(e.Key);
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = false }))
        {
            w.WriteStartObject();
            w.WriteString("displayTimeUnit", "ms");
            w.WriteStartArray("traceEvents");
            foreach (var e in events)
            {
                var (nodes, lines) = e.Args();
                w.WriteStartObject();
                w.WriteString("name", e.Name);
                w.WriteString("cat", e.Category);
                w.WriteString("ph", "X");
                w.WriteNumber("ts", Math.Round(e.Start * us, 3));
                w.WriteNumber("dur", Math.Round(e.Ticks * us, 3));
                w.WriteNumber("pid", 1);
                w.WriteNumber("tid", 1);
                w.WriteStartObject("args");
                w.WriteString("nodes", nodes);
                w.WriteString("lines", lines);
                if (Costed(e) is { } cost) WriteAchieved(w, Achieved.Of(cost, e.Ticks / (double)Stopwatch.Frequency, limits!));
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        var full = System.IO.Path.GetFullPath(Path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        AtomicFile.WriteAllBytes(full, ms.ToArray());
        if (limits is not null)
        {
            var report = ProfileReport.Build(Rows(Costed), limits);
            AtomicFile.WriteAllBytes(System.IO.Path.ChangeExtension(full, ".html"), Encoding.UTF8.GetBytes(report));
        }
    }

    private static void WriteAchieved(Utf8JsonWriter w, Achieved a)
    {
        w.WriteNumber("flops", a.Cost.Flops);
        w.WriteNumber("bytes", a.Cost.Bytes);
        w.WriteNumber("gflops", Math.Round(a.Gflops, 3));
        w.WriteNumber("gbps", Math.Round(a.GBs, 3));
        w.WriteNumber("peak_fraction", Math.Round(a.PeakFraction, 4));
        w.WriteNumber("bandwidth_fraction", Math.Round(a.BandwidthFraction, 4));
        w.WriteString("bound", a.Bound);
        w.WriteNumber("roof_fraction", Math.Round(a.RoofFraction, 4));
    }

    /// <summary>The runs grouped by kernel, with their total time and cost, longest first.</summary>
    private List<ProfileReport.Row> Rows(Func<Event, Cost?> costOf) => events.GroupBy(e => e.Key)
        .Select(g =>
        {
            var first = g.First();
            var cost = costOf(first);
            return new ProfileReport.Row(first.Name, first.Category, first.Args().Lines, g.Count(),
                g.Sum(e => (double)e.Ticks) / Stopwatch.Frequency, cost is { } c ? new Cost(c.Flops * g.Count(), c.Bytes * g.Count()) : null);
        })
        .OrderByDescending(r => r.Seconds).ToList();
}

/// <summary>What a kernel reached in a time against the machine's limits.</summary>
public readonly record struct Achieved(Cost Cost, double Seconds, double Gflops, double GBs, double PeakFraction, double BandwidthFraction,
    string Bound)
{
    /// <summary>The fraction of the limit that binds it: the peak when compute-bound, else the bandwidth.</summary>
    public double RoofFraction => Bound == "compute" ? PeakFraction : BandwidthFraction;

    public static Achieved Of(Cost cost, double seconds, MachineLimits limits)
    {
        double s = Math.Max(seconds, 1e-9), gflops = cost.Flops / s / 1e9, gbs = cost.Bytes / s / 1e9;
        return new Achieved(cost, seconds, gflops, gbs, gflops / limits.PeakGflops, gbs / limits.BandwidthGBs,
            cost.Intensity >= limits.Balance ? "compute" : "memory");
    }
}
