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
    /// <summary>Every step of the pipeline with its time, and the unit after it for graph passes (when kept).</summary>
    public List<(string Pass, TimeSpan Time, Unit? After)> Passes { get; } = [];
    public IReadOnlyList<Kernel> Kernels { get; internal set; } = [];
    public MemoryPlan? Memory { get; internal set; }
    /// <summary>The unit the kernels were made from (after the graph passes).</summary>
    public Unit? Optimized { get; internal set; }
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
    /// <summary>The dump folder written for this compilation, if any.</summary>
    public string? DumpFolder { get; internal set; }
}

/// <summary>Options that change the generated code (part of the cache key).</summary>
public sealed record CompileOptions
{
    /// <summary>Verify the graph after every pass (always on in tests).</summary>
    public bool Verify { get; init; } = true;
    /// <summary>Keep each graph pass's result in the report (for dumps).</summary>
    public bool KeepPassUnits { get; init; }
    /// <summary>Write a dump folder per compilation here (see CompileDump).</summary>
    public string? DumpDirectory { get; init; }
    /// <summary>The code to generate: C# loops for the CPU, or ILGPU kernels.</summary>
    public Backend Target { get; init; } = Backend.CSharp;
    /// <summary>The vector width of generated C# loops: the machine's (512, 256), or 0 for scalar loops.</summary>
    public int VectorWidth { get; init; } = Runtime.Kernels.Simd.Width;
}

/// <summary>Runs the whole pipeline: graph passes, fusion, lowering, memory planning, C# generation, Roslyn, the cache.</summary>
public static class Compilation
{
    /// <summary>The compiler's identity in cache keys: changes whenever GraphNet's code does.</summary>
    public static readonly string Version = string.Join("-", new[] { typeof(Graph), typeof(Runtime.Interpreter), typeof(Compilation) }
        .Select(t => t.Assembly.ManifestModule.ModuleVersionId.ToString("N")[..8]));

    /// <summary>Compiles for options.Target; an ILGPU target needs the session's device variables.</summary>
    public static Executable Compile(Graph graph, IReadOnlyList<Tensor> fetches, IReadOnlyList<Tensor> feeds, CompileOptions options, CompileCache? cache,
        Runtime.Devices.DeviceVariables? device = null)
    {
        bool ilgpu = options.Target == Backend.Ilgpu;
        if (ilgpu && device is null) throw new ArgumentException("an ILGPU compilation needs the session's device", nameof(device));
        var total = Stopwatch.StartNew();
        var report = new CompileReport { OpCount = graph.Nodes.Count };
        var unit = new Unit(graph, fetches, feeds);
        bool keep = options.KeepPassUnits || options.DumpDirectory is not null;
        if (keep) report.Passes.Add(("input", TimeSpan.Zero, unit));
        unit = Pipeline.RunGraphPasses(unit, options.Verify, (pass, u, t) => report.Passes.Add((pass.Name, t, keep ? u : null)));
        report.Optimized = unit;

        var sw = Stopwatch.StartNew();
        var fusion = Fusion.Plan(unit);
        report.Fusion = fusion;
        report.Passes.Add(("fusion", sw.Elapsed, null)); sw.Restart();
        var kernels = Lowering.Lower(unit, fusion);
        if (!ilgpu) kernels = LibraryEpilogues.Absorb(unit, kernels); // ILGPU's convolutions have no epilogue of their own
        report.Passes.Add(("lowering", sw.Elapsed, null));
        report.Kernels = kernels; sw.Restart();
        var memory = MemoryPlan.Build(unit, kernels, fusion.SliceViews, fusion.ConcatViews);
        report.Passes.Add(("memory_plan", sw.Elapsed, null));
        report.Memory = memory; sw.Restart();

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
            var metadata = new Dictionary<string, string> { [CompileCache.KeyAttribute] = key, [CompileCache.VersionAttribute] = Version };
            var source = ilgpu ? Backends.Ilgpu.DeviceEmitter.Emit(kernels, memory, s => index[s], className, metadata)
                               : CSharpEmitter.Emit(kernels, memory, s => index[s], className, metadata, options.VectorWidth);
            report.Passes.Add(("codegen", generate.Elapsed, null));
            return source;
        }

        byte[]? image = null;
        if (cache is not null)
        {
            image = cache.TryLoad(key, Version, out var miss);
            report.Cache = image is null ? miss : "hit";
            DebugLog.Write(2, image is null ? $"compile cache miss for {key[..12]}: {miss}" : $"compile cache hit for {key[..12]}");
        }
        report.Passes.Add(("cache_lookup", sw.Elapsed, null)); sw.Restart();
        if (image is null)
        {
            var source = Generate();
            report.Source = source;
            sw.Restart();
            image = RoslynCompiler.Compile(source, "GraphNet.Generated." + className);
            try { cache?.Store(key, image); }
            catch (IOException e) { DebugLog.Write(1, $"could not write the compile cache: {e.Message}"); }
            report.Passes.Add(("roslyn", sw.Elapsed, null)); sw.Restart();
        }
        else report.SourceFactory = Generate;
        var context = new AssemblyLoadContext("graphnet-" + key[..12], isCollectible: true);
        var assembly = context.LoadFromStream(new MemoryStream(image));
        var instance = Activator.CreateInstance(assembly.GetType("GraphNet.Generated." + className)
            ?? throw new InvalidOperationException($"generated assembly lacks {className}"))!;
        report.Passes.Add(("load", sw.Elapsed, null));
        report.Total = total.Elapsed;
        DebugLog.Write(1, $"compiled {graph.Nodes.Count} ops into {kernels.Count} kernels in {report.Total.TotalMilliseconds:F0} ms (cache: {report.Cache}); arena {memory.ArenaBytes(32):N0} B vs naive {memory.NaiveBytes(32):N0} B at batch 32");
        if (DebugLog.Level >= 2) foreach (var (p, t, _) in report.Passes) DebugLog.Write(2, $"  {p,-18} {t.TotalMilliseconds,8:F1} ms");
        if (DebugLog.Level >= 3) DebugLog.Write(3, fusion.Report());
        if (DebugLog.Level >= 4) DebugLog.Write(4, report.Source);
        if (options.DumpDirectory is { } dumps) report.DumpFolder = CompileDump.Write(dumps, graph, report);
        return ilgpu ? new IlgpuExecutable(unit, fetches, feeds, kernels, memory, index, (Ilgpu.DeviceStep)instance, context, report, device!)
                     : new CpuExecutable(unit, fetches, feeds, kernels, memory, index, (CompiledStep)instance, context, report);
    }
}
