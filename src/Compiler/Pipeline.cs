using System.Diagnostics;
using GraphNet.Compiler.Passes;

namespace GraphNet.Compiler;

/// <summary>
/// The compiler, top to bottom: every stage from the user's graph to a loaded executable, each
/// a named unit in its own file. <see cref="Run"/> times each stage, verifies what it made when
/// checks are on, and writes its output to the dump folder when one is set.
/// </summary>
public static class Pipeline
{
    /// <summary>The graph passes: unit in, unit out.</summary>
    public static IReadOnlyList<Pass> GraphPasses { get; } =
    [
        new PruneToFetches(),            // 1. keep what the fetches need
        new CheckTypes(),                // 2. check types and shapes
        new ConstantFolding(),           // 3. simplify: fold constants,
        new AlgebraicSimplification(),   //    apply algebraic rules,
        new CommonSubexpressions(),      //    merge repeated work,
        new ScanTwins(),                 //    run a scan and its twin that keeps residuals as one,
        new ScanOutputs(),               //    drop the step outputs of scans that nothing reads,
        new DeadCodeElimination(),       //    drop what became unused
    ];

    /// <summary>Every stage for a backend, in order.</summary>
    public static IReadOnlyList<Stage> Stages(CompilingBackend backend) =>
    [
        new Restore(),                   // 0. the whole plan from the compile cache, when it has this graph
        .. GraphPasses,
        new Fuse(),                      // 4. fuse: pointwise chains, epilogues, reductions, views
        new Lower(),                     // 5. lower each group to a kernel, in a valid order
        .. backend.KernelPasses,         //    the backend's own kernel passes (C#: epilogues into library calls)
        new PlanMemory(),                // 6. plan memory: buffers, reuse, in place; the buffer table
        new ScanBodies(),                //    compile each scan's body on its own
        new Generate(),                  // 7. generate the backend's code (a cache hit skips it),
        new Build(),                     //    compile it (or read it from the disk cache),
        new Load(),                      //    load it: the executable
        new StorePlan(),                 //    remember the plan beside the assembly
    ];

    /// <summary>When a compilation first says how far it is, on standard error, and how often after that.</summary>
    public static readonly TimeSpan ProgressAfter = TimeSpan.FromSeconds(3), ProgressEvery = TimeSpan.FromSeconds(5);

    /// <summary>Runs every stage on the compilation and returns its executable.</summary>
    internal static CompiledExecutable Run(Compilation c)
    {
        var total = Stopwatch.StartNew();
        var dumps = c.Options.DumpDirectory is null ? null : new List<(string File, Func<string> Text)>();
        var stages = Stages(c.Backend);
        int running = 0;
        // A long compilation says what it is doing, so that a user can tell progress from a hang.
        using var progress = new Timer(_ =>
        {
            int i = Volatile.Read(ref running);
            if (i < stages.Count)
                Console.Error.WriteLine($"[graphnet] compiling {c.Report.OpCount:N0} ops: stage {i + 1} of {stages.Count} ({stages[i].Name}), " +
                    $"{total.Elapsed.TotalSeconds:F0} s so far");
        }, null, ProgressAfter, ProgressEvery);
        try
        {
            for (int i = 0; i < stages.Count; i++)
            {
                var stage = stages[i];
                if (c.Report.Restored && !stage.RunsOnRestore) continue;
                Volatile.Write(ref running, i);
                var sw = Stopwatch.StartNew();
                stage.Run(c);
                c.Report.Stages.Add((stage.Name, sw.Elapsed));
                DebugLog.Write(1, $"  {stage.Name,-22} {sw.Elapsed.TotalMilliseconds,8:F1} ms");
                if (c.Options.Verify) stage.Verify(c);
                if (dumps is not null) foreach (var (file, text) in stage.Dump(c)) dumps.Add(($"{i:D2}-{stage.Name}.{file}", text));
                if (stage is DeadCodeElimination) c.Report.Optimized = c.Unit;
            }
            Volatile.Write(ref running, stages.Count);
        }
        finally
        {
            // A failed compilation dumps what it has: that is when the dump is wanted most.
            c.Report.Total = total.Elapsed;
            if (dumps is not null) c.Report.DumpFolder = CompileDump.Write(c.Options.DumpDirectory!, c, dumps);
        }
        var report = c.Report;
        if (DebugLog.Level >= 1)
            DebugLog.Write(1, $"compiled {report.OpCount} ops into {c.Kernels.Count} kernels " +
                $"in {report.Total.TotalMilliseconds:F0} ms (cache: {(report.Restored ? "hit, plan restored" : report.Cache)}); " +
                $"arena {c.Memory.ArenaBytes(32):N0} B vs naive {c.Memory.NaiveBytes(32):N0} B at batch 32");
        if (DebugLog.Level >= 1 && report.ReferenceFallbacks is { Count: > 0 } slow)
            DebugLog.Write(1, $"  reference evaluation (scalar loops, no library or generated kernel): {string.Join(", ", slow)}");
        if (DebugLog.Level >= 3) DebugLog.Write(3, c.Fusion.Report());
        if (DebugLog.Level >= 4) DebugLog.Write(4, report.Source);
        return c.Executable;
    }

    /// <summary>Runs the graph passes alone (with verification after each when asked).</summary>
    public static Unit RunGraphPasses(Unit unit, bool verify)
    {
        if (verify) Verifier.Verify(unit, "input");
        foreach (var pass in GraphPasses)
        {
            unit = pass.Run(unit);
            if (verify) Verifier.Verify(unit, pass.Name);
        }
        return unit;
    }
}
