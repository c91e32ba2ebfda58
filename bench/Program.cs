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
          step --model cnn|mlp|lstm --batch B --mode compiled|interpreter --steps N [--cache off]
                                                                        time N training steps after warm-up
          bdn [BenchmarkDotNet args]                                          run the BenchmarkDotNet suites
        """);
    return 0;
}
var opts = ParseOptions(args.Skip(1).ToArray());
switch (args[0])
{
    case "step": return Step(opts);
    case "bdn": BenchmarkSwitcher.FromAssembly(typeof(BenchModel).Assembly).Run(args.Skip(1).ToArray()); return 0;
    default: Console.Error.WriteLine($"unknown command '{args[0]}'; try --help"); return 2;
}

static int Step(Dictionary<string, string> o)
{
    string model = o.GetValueOrDefault("model", "cnn");
    int batch = int.Parse(o.GetValueOrDefault("batch", "32")), steps = int.Parse(o.GetValueOrDefault("steps", "20"));
    string mode = o.GetValueOrDefault("mode", "compiled");
    var backend = mode switch
    {
        "compiled" => Backend.CSharp,
        "interpreter" => Backend.Interpreter,
        _ => throw new ArgumentException($"unknown mode '{mode}': use compiled or interpreter"),
    };
    var m = BenchModel.Create(model);
    using var session = new Session(m.Graph, new SessionOptions { Backend = backend, UseCompileCache = o.GetValueOrDefault("cache", "on") != "off" });
    var feeds = m.Batch(batch);
    var fetches = new[] { m.Loss, m.TrainStep };
    var clock = Stopwatch.StartNew();
    session.Run(fetches, feeds);
    double firstRun = clock.Elapsed.TotalSeconds;
    for (int i = 0; i < 3; i++) session.Run(fetches, feeds);
    var times = new List<double>();
    for (int i = 0; i < steps; i++)
    {
        var sw = Stopwatch.StartNew();
        session.Run(fetches, feeds);
        times.Add(sw.Elapsed.TotalSeconds);
    }
    times.Sort();
    double median = times[times.Count / 2];
    Console.WriteLine($"model={model} batch={batch} mode={mode} steps={steps}");
    Console.WriteLine($"median_step_ms={median * 1000:F2}");
    Console.WriteLine($"samples_per_second={batch / median:F0}");
    Console.WriteLine($"ops={m.Graph.Nodes.Count}");
    if (backend == Backend.CSharp)
    {
        var exe = session.Compiled(fetches, feeds);
        Console.WriteLine($"compile_seconds={exe.Report.Total.TotalSeconds:F3}");
        Console.WriteLine($"compile_cache={exe.Report.Cache}");
        Console.WriteLine($"kernels={exe.KernelCount}");
        Console.WriteLine($"arena_bytes={exe.Memory.ArenaBytes(batch)}");
        Console.WriteLine($"naive_bytes={exe.Memory.NaiveBytes(batch)}");
    }
    else
    {
        // The interpreter launches one kernel per scheduled op and keeps every intermediate in its own array.
        var plan = new GraphNet.Runtime.RunPlan(m.Graph, fetches, feeds.Keys.ToArray());
        long naive = plan.Schedule.Where(n => n.Op is not (VariableOp or PlaceholderOp or ConstantOp or ReshapeOp or GroupOp or AssignOp))
            .Sum(n => n.OutputTypes[0].Shape.StaticSize * (n.OutputTypes[0].Shape.IsSymbolic ? batch : 1) * n.OutputTypes[0].DType.SizeInBytes());
        Console.WriteLine($"compile_seconds=0");
        Console.WriteLine($"kernels={plan.Schedule.Count(n => n.Op is not (VariableOp or PlaceholderOp or ConstantOp))}");
        Console.WriteLine($"arena_bytes={naive}");
        Console.WriteLine($"naive_bytes={naive}");
    }
    Console.WriteLine($"first_run_seconds={firstRun:F3}");
    return 0;
}

static Dictionary<string, string> ParseOptions(string[] a)
{
    var d = new Dictionary<string, string>();
    for (int i = 0; i < a.Length; i++)
        if (a[i].StartsWith("--") && i + 1 < a.Length) d[a[i][2..]] = a[++i];
    return d;
}
