namespace GraphNet.Compiler;

/// <summary>
/// The first stage: looks the graph up in the compile cache by its key before the passes
/// (<see cref="InputKey"/>). On a hit the stored plan (<see cref="PlanFile"/>) gives the optimized
/// unit, fusion plan, kernels and memory plan, the stored assembly gives the code, and the
/// pipeline skips every stage up to loading (scan bodies are looked up the same way). A
/// compilation that writes a dump runs every stage, since the dump shows each one's output.
/// </summary>
public sealed class Restore : Stage
{
    public override string Name => "restore";

    public override bool RunsOnRestore => true;

    public override void Run(Compilation c)
    {
        if (c.Cache is { } cache && c.Options.DumpDirectory is null && TryRestore(c, cache)) return;
        // Roslyn JIT-compiles itself on its first use in a process (about a second): let that
        // overlap with the stages before the build, as a session's set-up does.
        Backends.CSharp.RoslynCompiler.WarmUpInBackground();
    }

    private static bool TryRestore(Compilation c, CompileCache cache)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var key = c.InputKey = InputKey.Of(c.Unit, c.Options);
        double keyMs = clock.Elapsed.TotalMilliseconds;
        var bytes = cache.TryLoadPlan(key.Key, out var miss);
        double loadMs = clock.Elapsed.TotalMilliseconds;
        if (bytes is not null)
        {
            try
            {
                var plan = PlanFile.Read(bytes, key);
                double readMs = clock.Elapsed.TotalMilliseconds;
                var image = cache.TryLoad(plan.CodeKey, Compilation.Version, out miss);
                if (image is not null)
                {
                    c.Unit = c.Report.Optimized = plan.Unit;
                    c.Fusion = c.Report.Fusion = plan.Fusion;
                    c.Kernels = plan.Kernels; c.Report.Kernels = plan.Kernels;
                    c.Memory = c.Report.Memory = plan.Memory;
                    c.Buffers = new BufferTable(plan.Memory);
                    c.Report.CacheKey = plan.CodeKey;
                    c.Report.Cache = "hit";
                    c.Report.Restored = true;
                    c.Image = image;
                    c.Report.CodeFactory = () => c.Backend.Emit(c);
                    DebugLog.Write(2, $"compile cache: plan {key.Key[..12]} restored (assembly {plan.CodeKey[..12]}): " +
                        $"key {keyMs:F0} ms, plan file {loadMs - keyMs:F0} ms ({bytes.Length / 1024} KiB), " +
                        $"plan read {readMs - loadMs:F0} ms, assembly {clock.Elapsed.TotalMilliseconds - readMs:F0} ms");
                    return true;
                }
                miss = "the plan's assembly: " + miss;
            }
            catch (InvalidDataException e) { miss = e.Message; }
        }
        DebugLog.Write(2, $"compile cache: no plan for {key.Key[..12]}: {miss}");
        return false;
    }

    public override IEnumerable<(string File, Func<string> Text)> Dump(Compilation c)
    {
        var (cache, key) = (c.Cache, c.InputKey?.Key);
        return [("txt", () => cache is null ? "compile cache off\n"
            : key is null ? "plans are not looked up when a dump is written (the dump shows every stage)\n"
            : $"plan key {key}: compiled afresh\n")];
    }

    /// <summary>A restored plan is checked like the stages' own output: the graph, the kernels and the memory plan.</summary>
    public override void Verify(Compilation c)
    {
        if (!c.Report.Restored) return;
        Verifier.Verify(c.Unit, Name);
        Verifier.VerifyKernels(c.Unit, c.Kernels, c.Fusion, Name);
        Verifier.VerifyMemory(c.Unit, c.Kernels, c.Memory, c.Buffers, Name);
    }
}

/// <summary>
/// The last stage: stores the plan of a compilation that ran every stage beside its assembly,
/// under the key of its graph before the passes, so that the next process restores it. A plan
/// that cannot be written (an op attribute the plan format does not know, a full disk) only
/// costs the next process a compilation.
/// </summary>
public sealed class StorePlan : Stage
{
    public override string Name => "store_plan";

    public override void Run(Compilation c)
    {
        if (c.Report.Restored || c.Cache is not { } cache || c.InputKey is not { } key) return;
        try { cache.StorePlan(key.Key, PlanFile.Write(c, key)); }
        catch (NotSupportedException e) { DebugLog.Write(1, $"compile cache: this graph's plan cannot be stored ({e.Message})"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            DebugLog.Write(1, $"could not write the compile cache: {e.Message}");
        }
    }

    public override IEnumerable<(string File, Func<string> Text)> Dump(Compilation c)
    {
        var stored = c.Cache is not null && c.InputKey is not null;
        return [("txt", () => stored ? $"plan stored under {c.InputKey!.Key}\n" : "no plan stored (no cache, or a dump was asked for)\n")];
    }
}
