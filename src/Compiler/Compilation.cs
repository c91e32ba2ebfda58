using System.Diagnostics;
using System.Reflection;
using System.Runtime.Loader;
using System.Security.Cryptography;
using System.Text;
using GraphNet.Compiler.Backends.CSharp;

namespace GraphNet.Compiler;

/// <summary>What a compilation did and how long each part took.</summary>
public sealed class CompileReport
{
    public List<(string Pass, TimeSpan Time, string Text)> Passes { get; } = [];
    public FusionPlan Fusion { get; internal set; } = new();
    /// <summary>The generated C# (made on demand when the assembly came from the cache).</summary>
    public string Source { get => source ??= SourceFactory?.Invoke() ?? ""; internal set => source = value; }
    private string? source;
    internal Func<string>? SourceFactory { get; set; }
    public string CacheKey { get; internal set; } = "";
    /// <summary>"hit", or the reason for the miss.</summary>
    public string Cache { get; internal set; } = "";
    public TimeSpan Total { get; internal set; }
    public int OpCount { get; internal set; }
}

/// <summary>Options that change the generated code (part of the cache key).</summary>
public sealed record CompileOptions
{
    /// <summary>Verify the graph after every pass (always on in tests).</summary>
    public bool Verify { get; init; } = true;
    /// <summary>Keep each pass's text in the report (dumps).</summary>
    public bool KeepPassText { get; init; }
}

/// <summary>Runs the whole pipeline: graph passes, fusion, lowering, memory planning, C# generation, Roslyn, the cache.</summary>
public static class Compilation
{
    /// <summary>The compiler's identity in cache keys: changes whenever GraphNet's code does.</summary>
    public static readonly string Version = string.Join("-", new[] { typeof(Graph), typeof(Runtime.Interpreter), typeof(Compilation) }
        .Select(t => t.Assembly.ManifestModule.ModuleVersionId.ToString("N")[..8]));

    public static Executable Compile(Graph graph, IReadOnlyList<Tensor> fetches, IReadOnlyList<Tensor> feeds, CompileOptions options, CompileCache? cache)
    {
        var total = Stopwatch.StartNew();
        var report = new CompileReport { OpCount = graph.Nodes.Count };
        var unit = new Unit(graph, fetches, feeds);
        if (options.KeepPassText) report.Passes.Add(("input", TimeSpan.Zero, unit.ToText()));
        unit = Pipeline.RunGraphPasses(unit, options.Verify, (pass, u, t) => report.Passes.Add((pass.Name, t, options.KeepPassText ? u.ToText() : "")));

        var sw = Stopwatch.StartNew();
        var fusion = Fusion.Plan(unit);
        report.Fusion = fusion;
        report.Passes.Add(("fusion", sw.Elapsed, "")); sw.Restart();
        var kernels = Lowering.Lower(unit, fusion);
        report.Passes.Add(("lowering", sw.Elapsed, "")); sw.Restart();
        var memory = MemoryPlan.Build(unit, kernels);
        report.Passes.Add(("memory_plan", sw.Elapsed, "")); sw.Restart();

        var index = new Dictionary<Storage, int>();
        int nFeeds = memory.Feeds.Count, nVars = memory.Variables.Count, nConsts = memory.Constants.Count, nSlots = memory.Slots.Count;
        foreach (var s in memory.StorageOf.Values.Distinct())
            index[s] = s.Kind switch
            {
                StorageKind.Feed => s.Index, StorageKind.Variable => nFeeds + s.Index, StorageKind.Constant => nFeeds + nVars + s.Index,
                StorageKind.Slot => nFeeds + nVars + nConsts + s.Index, _ => nFeeds + nVars + nConsts + nSlots + s.Index,
            };

        var canonical = unit.ToText() + "feeds " + string.Join(",", unit.Feeds.Select(f => f.Node.Id)) + "\n" + options;
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))[..32].ToLowerInvariant();
        report.CacheKey = key;
        string className = "Step_" + key[..12];
        string Generate()
        {
            var generate = Stopwatch.StartNew();
            var source = CSharpEmitter.Emit(kernels, memory, s => index[s], className,
                new Dictionary<string, string> { [CompileCache.KeyAttribute] = key, [CompileCache.VersionAttribute] = Version });
            report.Passes.Add(("codegen", generate.Elapsed, ""));
            return source;
        }

        byte[]? image = null;
        if (cache is not null)
        {
            image = cache.TryLoad(key, Version, out var miss);
            report.Cache = image is null ? miss : "hit";
            DebugLog.Write(2, image is null ? $"compile cache miss for {key[..12]}: {miss}" : $"compile cache hit for {key[..12]}");
        }
        report.Passes.Add(("cache_lookup", sw.Elapsed, "")); sw.Restart();
        if (image is null)
        {
            var source = Generate();
            report.Source = source;
            sw.Restart();
            image = RoslynCompiler.Compile(source, "GraphNet.Generated." + className);
            try { cache?.Store(key, image); }
            catch (IOException e) { DebugLog.Write(1, $"could not write the compile cache: {e.Message}"); }
            report.Passes.Add(("roslyn", sw.Elapsed, "")); sw.Restart();
        }
        else report.SourceFactory = Generate;
        var context = new AssemblyLoadContext("graphnet-" + key[..12], isCollectible: true);
        var assembly = context.LoadFromStream(new MemoryStream(image));
        var step = (CompiledStep)Activator.CreateInstance(assembly.GetType("GraphNet.Generated." + className)
            ?? throw new InvalidOperationException($"generated assembly lacks {className}"))!;
        report.Passes.Add(("load", sw.Elapsed, ""));
        report.Total = total.Elapsed;
        DebugLog.Write(1, $"compiled {graph.Nodes.Count} ops into {kernels.Count} kernels in {report.Total.TotalMilliseconds:F0} ms (cache: {report.Cache}); arena {memory.ArenaBytes(32):N0} B vs naive {memory.NaiveBytes(32):N0} B at batch 32");
        if (DebugLog.Level >= 2) foreach (var (p, t, _) in report.Passes) DebugLog.Write(2, $"  {p,-18} {t.TotalMilliseconds,8:F1} ms");
        if (DebugLog.Level >= 3) DebugLog.Write(3, fusion.Report());
        if (DebugLog.Level >= 4) DebugLog.Write(4, report.Source);
        return new Executable(unit, fetches, feeds, kernels, memory, index, step, context, report);
    }
}
