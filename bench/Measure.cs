using System.Diagnostics;
using GraphNet.Compiler;

namespace GraphNet.Bench;

/// <summary>The figures of one (model, mode, batch, training or inference) measurement.</summary>
public sealed record Measurement(string Model, string Mode, int Batch, bool Training, double MedianSeconds, double CompileSeconds,
    long PeakManagedBytes, int KernelsPerStep, int Ops, long ArenaBytes, long NaiveBytes, string Cache, long AllocatedBytesPerStep = 0,
    double FirstStepsMedianSeconds = 0, double WarmupSeconds = 0, bool Stable = true, double StepFlops = 0)
{
    public double SamplesPerSecond => Batch / MedianSeconds;
    /// <summary>GFLOP/s over the median step (0 where the step's FLOPs are not counted: eager and the interpreter).</summary>
    public double Gflops => StepFlops / MedianSeconds / 1e9;
}

/// <summary>Times steps of a model in one of the modes: eager, interpreter (deferred, node by node) or compiled.</summary>
public static class Measure
{
    public static readonly string[] Modes = ["eager", "interpreter", "compiled"];

    /// <summary>
    /// Times <paramref name="steps"/> steps (or fewer, at least 3, once <paramref name="maxSeconds"/> have passed) at
    /// steady state. .NET runs methods unoptimized for their first calls and optimizes them in the
    /// background, so a step timed over its first tens of calls reads up to twice its steady time:
    /// after the first call (which compiles) and 20 more (whose median is reported as the first
    /// steps' figure), steps run in windows until three window medians agree within 5% and at least
    /// <paramref name="minWarmupSeconds"/> have passed (at most <paramref name="maxWarmupSeconds"/>).
    /// </summary>
    /// <param name="compiledBackend">What "compiled" means: C# on the CPU, or ILGPU kernels on <paramref name="accelerator"/>.</param>
    public static Measurement Run(string model, string mode, int batch, bool training, int steps, bool useCache = true,
        double maxSeconds = double.PositiveInfinity, Backend? compiledBackend = null, AcceleratorKind accelerator = AcceleratorKind.Auto,
        double minWarmupSeconds = 1.5, double maxWarmupSeconds = 30)
    {
        compiledBackend ??= Backend.CSharp;
        var spec = ModelSpec.Get(model);
        var (execMode, backend) = mode switch
        {
            "eager" => (ExecutionMode.Eager, Backend.CSharp),
            "interpreter" => (ExecutionMode.Deferred, Backend.Interpreter),
            "compiled" => (ExecutionMode.Deferred, compiledBackend),
            _ => throw new ArgumentException($"unknown mode '{mode}': use eager, interpreter or compiled"),
        };
        var graph = new Graph(seed: 1);
        using var exec = new Executor(graph, execMode, new SessionOptions { Backend = backend, UseCompileCache = useCache, Accelerator = accelerator });
        var (train, infer) = spec.Functions(exec);
        var (x, labels) = spec.Batch(batch);
        NDArray[] Step() => training ? train.Run([x, labels]) : infer.Run([x], training: false);

        Step(); // compiles (deferred) or makes the variables and slots (eager)
        var firstSteps = new List<double>();
        for (int i = 0; i < 20; i++) firstSteps.Add(Time(Step));
        var (warmup, stable) = WarmUp(Step, minWarmupSeconds, maxWarmupSeconds);
        GC.Collect();
        long peak = 0;
        int opsBefore = graph.NextId;
        var times = new List<double>(steps);
        long allocatedBefore = GC.GetTotalAllocatedBytes(true);
        var budget = Stopwatch.StartNew();
        for (int i = 0; i < steps && (i < 3 || budget.Elapsed.TotalSeconds < maxSeconds); i++)
        {
            var sw = Stopwatch.StartNew();
            Step();
            times.Add(sw.Elapsed.TotalSeconds);
            peak = Math.Max(peak, Math.Max(GC.GetTotalMemory(false), GC.GetGCMemoryInfo().HeapSizeBytes));
        }
        // Everything the steps allocated, on every thread (the results the step returns included).
        long allocatedPerStep = (GC.GetTotalAllocatedBytes(true) - allocatedBefore) / times.Count;
        times.Sort();
        double median = times[times.Count / 2];

        int kernels, ops; long arena = 0, naive = 0; double compile = 0, flops = 0; string cache = "";
        if (execMode == ExecutionMode.Eager)
        {
            // Every op of a step is dispatched on its own: the tape's node count per step.
            kernels = ops = (graph.NextId - opsBefore) / times.Count;
        }
        else
        {
            var session = exec.Session!;
            var plan = session.LastPlan!;
            ops = plan.Schedule.Length;
            if (backend != Backend.Interpreter)
            {
                var exe = session.Compiled(plan.Fetches, plan.FedTensors.ToDictionary(t => t, t => (NDArray)null!));
                kernels = exe.KernelCount; arena = exe.Memory.ArenaBytes(batch); naive = exe.Memory.NaiveBytes(batch);
                compile = exe.Report.Total.TotalSeconds; cache = exe.Report.Cache;
                flops = KernelCost.Of(exe.Kernels, batch).Flops;
            }
            else
            {
                kernels = plan.Schedule.Count(n => n.Op is not (VariableOp or PlaceholderOp or ConstantOp));
                naive = arena = plan.Schedule.Where(n => n.Op is not (VariableOp or PlaceholderOp or ConstantOp or ReshapeOp or GroupOp or AssignOp))
                    .Sum(n => n.OutputTypes[0].Shape.StaticSize * (n.OutputTypes[0].Shape.IsSymbolic ? batch : 1) * n.OutputTypes[0].DType.SizeInBytes());
            }
        }
        return new Measurement(model, mode, batch, training, median, compile, peak, kernels, ops, arena, naive, cache, allocatedPerStep,
            Median(firstSteps), warmup, stable, flops);
    }

    private static double Time(Func<NDArray[]> step)
    {
        var sw = Stopwatch.StartNew();
        step();
        return sw.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> v)
    {
        var sorted = v.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    /// <summary>
    /// Steps in windows (about a quarter second each) until the last three window medians agree within 5%; the
    /// seconds spent, and whether they agreed.
    /// </summary>
    public static (double Seconds, bool Stable) WarmUp(Func<NDArray[]> step, double minSeconds, double maxSeconds)
    {
        var clock = Stopwatch.StartNew();
        var medians = new List<double>();
        int window = 5;
        while (clock.Elapsed.TotalSeconds < maxSeconds)
        {
            var times = new List<double>(window);
            for (int i = 0; i < window; i++) times.Add(Time(step));
            medians.Add(Median(times));
            window = Math.Clamp((int)(0.25 / medians[^1]), 5, 200);
            if (medians.Count >= 3 && clock.Elapsed.TotalSeconds >= minSeconds)
            {
                var last = medians.TakeLast(3).ToList();
                if (last.Max() <= 1.05 * last.Min()) return (clock.Elapsed.TotalSeconds, true);
            }
        }
        return (clock.Elapsed.TotalSeconds, false);
    }
}
