using System.Runtime.CompilerServices;
using GraphNet.Runtime.Kernels;
namespace GraphNet.Compiler;

/// <summary>What generated code sees during one step: the batch size and every buffer.</summary>
public sealed class StepContext
{
    /// <summary>The run-time batch size N.</summary>
    public int Batch { get; internal set; }
    /// <summary>Buffers by storage index: feeds, variables, constants, slots, variables' second buffers.</summary>
    public Array[] B { get; internal set; } = [];
    public long RunCounter { get; internal set; }
    public int GraphSeed { get; internal set; }

    internal Action<int> CallKernel { get; set; } = _ => throw new InvalidOperationException();
    private BroadcastPlan?[] plans = [];
    private int planBatch = -1;

    internal Action<int, long, long>? OnKernel { get; set; }
    private long kernelStart;

    /// <summary>The kernel running now (−1 before the first): kernels share code, so a failure's stack cannot name it.</summary>
    internal int Current { get; set; } = -1;

    /// <summary>Marks the start of a kernel (for the profiler, and to name the kernel of a failure).</summary>
    public void Begin(int kernel)
    {
        Current = kernel;
        if (OnKernel is not null) kernelStart = System.Diagnostics.Stopwatch.GetTimestamp();
    }

    /// <summary>Marks the end of a kernel (for the profiler).</summary>
    public void End(int kernel) => OnKernel?.Invoke(kernel, kernelStart, System.Diagnostics.Stopwatch.GetTimestamp());

    /// <summary>Runs a library or reference kernel by its index in the schedule.</summary>
    public void Call(int kernel) => CallKernel(kernel);

    /// <summary>
    /// The cached broadcast plan of a kernel's loop for the current batch size, or null. Part 0 is the kernel's
    /// main loop (or its reduction), part 1 the epilogue after a reduction, which walks another shape.
    /// </summary>
    public BroadcastPlan? Plan(int kernel, int part)
    {
        if (planBatch != Batch) { Array.Clear(plans); planBatch = Batch; }
        int slot = 2 * kernel + part;
        return slot < plans.Length ? plans[slot] : null;
    }

    public BroadcastPlan SetPlan(int kernel, int part, BroadcastPlan plan)
    {
        int slot = 2 * kernel + part;
        if (slot >= plans.Length) Array.Resize(ref plans, slot + 1);
        return plans[slot] = plan;
    }

    /// <summary>The dropout key of an op's seed in this run.</summary>
    public ulong DropoutKey(int seed) => DropoutOp.Key(GraphSeed, seed, RunCounter);
}

/// <summary>Decodes the tables generated code carries as text.</summary>
public static class StepData
{
    /// <summary>The integers of a comma-separated list ("" is none).</summary>
    public static int[] Ints(string list) =>
        list.Length == 0 ? [] : Array.ConvertAll(list.Split(','), v => int.Parse(v, System.Globalization.CultureInfo.InvariantCulture));
}

/// <summary>The base class of generated code: one method that runs every kernel of a step in order.</summary>
public abstract class CompiledStep
{
    public abstract void Run(StepContext c);
}

/// <summary>Runs a flat loop, split over cores when it is large enough to pay for it.</summary>
public static class Loops
{
    public const int ParallelThreshold = 1 << 16;

    /// <summary>
    /// A loop walked by a broadcast plan (broadcast or strided leaves), split over cores by runs
    /// when large: a convolution's bias-and-ReLU epilogue or an LSTM's input projection bias is
    /// millions of elements. (Not for reductions: their runs may add into the same accumulator.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Planned<TLoop>(BroadcastPlan plan, TLoop loop) where TLoop : struct, IRunVisitor
    {
        int runs = plan.Runs;
        int workers = Math.Min(Math.Min(Environment.ProcessorCount, runs), plan.Size / (ParallelThreshold / 2));
        if (workers <= 1) { plan.ForEachRun(ref loop); return; }
        Work.Ranges(runs, 4 * workers, workers, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (lo, hi) =>
        {
            var l = loop;
            plan.ForEachRun(ref l, lo, hi);
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Flat<TLoop>(TLoop loop, int size) where TLoop : struct, IRunVisitor
    {
        int workers = Math.Min(Environment.ProcessorCount, size / (ParallelThreshold / 2));
        if (workers <= 1) { loop.Run(0, default, default, size); return; }
        // A few ranges per core (aligned to whole vectors), handed out as cores come free.
        Work.Ranges(size, 4 * workers, workers, 64, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (lo, hi) =>
        {
            var l = loop;
            l.Run(lo, default, default, hi - lo);
        });
    }
}
