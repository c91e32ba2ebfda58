using System.Diagnostics;
using GraphNet.Compiler;

namespace GraphNet.Bench;

/// <summary>The figures of one (model, mode, batch, training or inference) measurement.</summary>
public sealed record Measurement(string Model, string Mode, int Batch, bool Training, double MedianSeconds, double CompileSeconds,
    long PeakManagedBytes, int KernelsPerStep, int Ops, long ArenaBytes, long NaiveBytes, string Cache, long AllocatedBytesPerStep = 0)
{
    public double SamplesPerSecond => Batch / MedianSeconds;
}

/// <summary>Times steps of a model in one of the modes: eager, interpreter (deferred, node by node) or compiled.</summary>
public static class Measure
{
    public static readonly string[] Modes = ["eager", "interpreter", "compiled"];

    /// <summary>Times <paramref name="steps"/> steps after warm-up, or fewer (at least 3) once <paramref name="maxSeconds"/> have passed.</summary>
    /// <param name="compiledBackend">What "compiled" means: C# on the CPU, or ILGPU kernels on <paramref name="accelerator"/>.</param>
    public static Measurement Run(string model, string mode, int batch, bool training, int steps, int warmup = 3, bool useCache = true, double maxSeconds = double.PositiveInfinity,
        Backend? compiledBackend = null, AcceleratorKind accelerator = AcceleratorKind.Auto)
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

        var clock = Stopwatch.StartNew();
        Step();
        double first = clock.Elapsed.TotalSeconds;
        for (int i = 1; i < warmup; i++) Step();
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

        int kernels, ops; long arena = 0, naive = 0; double compile = 0; string cache = "";
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
            }
            else
            {
                kernels = plan.Schedule.Count(n => n.Op is not (VariableOp or PlaceholderOp or ConstantOp));
                naive = arena = plan.Schedule.Where(n => n.Op is not (VariableOp or PlaceholderOp or ConstantOp or ReshapeOp or GroupOp or AssignOp))
                    .Sum(n => n.OutputTypes[0].Shape.StaticSize * (n.OutputTypes[0].Shape.IsSymbolic ? batch : 1) * n.OutputTypes[0].DType.SizeInBytes());
            }
        }
        return new Measurement(model, mode, batch, training, median, compile, peak, kernels, ops, arena, naive, cache, allocatedPerStep);
    }
}
