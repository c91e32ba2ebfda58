using GraphNet.Runtime.Devices;
using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Running;
using GraphNet;
using GraphNet.Bench;
using GraphNet.Compiler;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine("""
        usage: dotnet run -c Release --project bench -- COMMAND [options]
          step --model cnn|mlp|lstm --batch B --mode compiled|interpreter|eager --steps N [--task train|infer] [--cache off]
               [--backend csharp|ilgpu] [--accelerator auto|cuda|opencl|cpu]    time N training steps after warm-up
          report [--out DIR] [--seconds S]                                     every mode on cnn/mlp/lstm; writes eager-vs-deferred.md and .png
          fuzz [--count N] [--seed S] [--save DIR] [--backend csharp|ilgpu]   compiled vs interpreter on random graphs; shrinks and saves mismatches
          peak                                                                FP32 FMA peak: peak_gflops_1core= and peak_gflops_all=
          gemm --m M --n N --k K [--threads T]                                 GEMM gflops= and fraction_of_peak= for T threads
          versus-libtorch [--rounds R] [--out DIR]                             GraphNet compiled vs libtorch (bench/libtorch) in alternating rounds; writes vs-libtorch.md
          versus-ports [--rounds R] [--full] [--out DIR] [--ports a,b]         the four ports vs their libtorch twins (ports-vs-libtorch.md)
          compile-scaling [--lengths 50,100,200,400,800]                     unrolled-LSTM compile time per length, cache hits
          float64 [--rounds R]                                                the CNN's step in float32 and in float64: float64_ratio=
          bdn [BenchmarkDotNet args]                                          run the BenchmarkDotNet suites
        """);
    return 0;
}
var opts = ParseOptions(args.Skip(1).ToArray());
switch (args[0])
{
    case "step": return Step(opts);
    case "fuzz": return Fuzz.Command(int.Parse(opts.GetValueOrDefault("count", "1000")), int.Parse(opts.GetValueOrDefault("seed", "1")),
        opts.GetValueOrDefault("save", "tests/Compiler.Tests/FuzzRegressions"), CompiledBackend(opts));
    case "fuzz-mutants":
        return FuzzMutants.Command(int.Parse(opts.GetValueOrDefault("count", "300")), int.Parse(opts.GetValueOrDefault("seed", "1")));
    case "peak": return Peak.PeakCommand();
    case "gemm": return Peak.GemmCommand(int.Parse(opts.GetValueOrDefault("m", "1024")), int.Parse(opts.GetValueOrDefault("n", "1024")),
        int.Parse(opts.GetValueOrDefault("k", "1024")), int.Parse(opts.GetValueOrDefault("threads", "1")));
    case "checkpoint-writer": return CheckpointWriter(args[1], int.Parse(args[2]));
    case "report": return Report.Run(opts.GetValueOrDefault("out", "bench/results"), double.Parse(opts.GetValueOrDefault("seconds", "2.5")));
    case "versus-ports": return VersusPorts.Command(int.Parse(opts.GetValueOrDefault("rounds", "3")), opts.ContainsKey("full"),
        opts.GetValueOrDefault("out", "bench/results"), opts.TryGetValue("ports", out var only) ? only.Split(',') : null);
    case "float64": return Float64Step.Command(int.Parse(opts.GetValueOrDefault("rounds", "7")));
    case "versus-libtorch": return Versus.Command(int.Parse(opts.GetValueOrDefault("rounds", "3")), opts.GetValueOrDefault("out", "bench/results"));
    case "compile-scaling":
        return CompileScaling.Command(opts.GetValueOrDefault("lengths", "50,100,200,400,800").Split(',').Select(int.Parse).ToArray());
    case "compile-once": return CompileScaling.Once(opts["model"], int.Parse(opts.GetValueOrDefault("steps", "0")),
        opts.GetValueOrDefault("cache", "off") is "off" ? null : opts["cache"]);
    case "bdn": BenchmarkSwitcher.FromAssembly(typeof(BenchModel).Assembly).Run(args.Skip(1).ToArray()); return 0;
    default: Console.Error.WriteLine($"unknown command '{args[0]}'; try --help"); return 2;
}

static int Step(Dictionary<string, string> o)
{
    string model = o.GetValueOrDefault("model", "cnn"), mode = o.GetValueOrDefault("mode", "compiled");
    int batch = int.Parse(o.GetValueOrDefault("batch", "32")), steps = int.Parse(o.GetValueOrDefault("steps", "20"));
    bool training = o.GetValueOrDefault("task", "train") == "train";
    var backend = CompiledBackend(o);
    var accelerator = Devices.Parse(o.GetValueOrDefault("accelerator", "auto"));
    var m = Measure.Run(model, mode, batch, training, steps, useCache: o.GetValueOrDefault("cache", "on") != "off", compiledBackend: backend, accelerator: accelerator);
    Console.WriteLine($"model={model} batch={batch} mode={mode} task={(training ? "train" : "infer")} steps={steps}");
    if (mode == "compiled") Console.WriteLine($"backend={(backend == Backend.Ilgpu ? "ilgpu" : "csharp")}" + (backend == Backend.Ilgpu ? $" device={Devices.Get(accelerator).Name}" : ""));
    Console.WriteLine($"median_step_ms={m.MedianSeconds * 1000:F2}");
    Console.WriteLine($"first20_median_ms={m.FirstStepsMedianSeconds * 1000:F2}");
    Console.WriteLine($"warmup_seconds={m.WarmupSeconds:F1}");
    Console.WriteLine($"warmup_stable={(m.Stable ? "yes" : "no")}");
    Console.WriteLine($"samples_per_second={m.SamplesPerSecond:F0}");
    Console.WriteLine($"compile_seconds={m.CompileSeconds:F3}");
    if (m.Cache.Length > 0) Console.WriteLine($"compile_cache={m.Cache}");
    Console.WriteLine($"ops={m.Ops}");
    Console.WriteLine($"kernels={m.KernelsPerStep}");
    Console.WriteLine($"arena_bytes={m.ArenaBytes}");
    Console.WriteLine($"naive_bytes={m.NaiveBytes}");
    Console.WriteLine($"peak_managed_bytes={m.PeakManagedBytes}");
    Console.WriteLine($"allocated_bytes_per_step={m.AllocatedBytesPerStep}");
    if (m.StepFlops > 0)
    {
        // The step's counted FLOPs (GraphNet.Compiler.KernelCost) over its median time, against the peak measured now.
        var limits = GraphNet.Runtime.MachineLimits.Current;
        Console.WriteLine($"step_gflop={m.StepFlops / 1e9:F3}");
        Console.WriteLine($"gflops={m.Gflops:F1}");
        Console.WriteLine($"peak_gflops={limits.PeakGflops:F1}");
        Console.WriteLine($"fraction_of_peak={m.Gflops / limits.PeakGflops:F3}");
    }
    return 0;
}

// For the kill test: saves a large checkpoint over and over until it is killed.
static int CheckpointWriter(string path, int megabytes)
{
    var data = new float[megabytes * 262144];
    for (int i = 0; ; i++)
    {
        Array.Fill(data, i);
        GraphNet.Runtime.SafeTensors.Write(path, new Dictionary<string, NDArray> { ["big.weight"] = NDArray.From(data, data.Length) });
        Console.WriteLine($"saved {i}");
    }
}

static Backend CompiledBackend(Dictionary<string, string> o) => o.GetValueOrDefault("backend", "csharp") switch
{
    "csharp" or "compiled" => Backend.CSharp,
    "ilgpu" => Backend.Ilgpu,
    var b => throw new ArgumentException($"unknown backend '{b}': use csharp or ilgpu"),
};

static Dictionary<string, string> ParseOptions(string[] a)
{
    var d = new Dictionary<string, string>();
    for (int i = 0; i < a.Length; i++)
        if (a[i].StartsWith("--")) d[a[i][2..]] = i + 1 < a.Length && !a[i + 1].StartsWith("--") ? a[++i] : "true"; // a flag: "true"
    return d;
}
