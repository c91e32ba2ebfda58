using System.Diagnostics;
using GraphNet.Compiler;
using GraphNet.Nn;
using GraphNet.Train;

namespace GraphNet.Bench;

/// <summary>
/// How compile time grows with the graph: pytorch/examples' time_sequence_prediction model
/// (two LSTMCell(51) and a Linear(51, 1), MSE, Adam) unrolled over T steps, each length
/// compiled in a fresh process with the cache off; then cache hits of the CNN and of T = 200,
/// each in a fresh process after another one filled a private cache (the plan restored: no stage
/// but loading runs).
/// </summary>
public static class CompileScaling
{
    public const int Hidden = 51;

    /// <summary>The training step unrolled over <paramref name="steps"/> steps: fetches (loss, train op), feeds (input, target).</summary>
    public static (Graph Graph, Tensor[] Fetches, Tensor[] Feeds) UnrolledLstm(int steps)
    {
        var g = new Graph(seed: 1);
        var lstm1 = new LSTMCell(g, "lstm1", 1, Hidden);
        var lstm2 = new LSTMCell(g, "lstm2", Hidden, Hidden);
        var linear = new Linear(g, "linear", Hidden, 1);
        var input = g.Placeholder([-1, steps], "input");
        var target = g.Placeholder([-1, steps], "target");
        (Tensor H, Tensor C)? s1 = null, s2 = null;
        var outputs = new List<Tensor>();
        for (int t = 0; t < steps; t++)
        {
            s1 = lstm1.Forward(F.Slice(input, 1, t, 1), s1);
            s2 = lstm2.Forward(s1.Value.H, s2);
            outputs.Add(linear.Forward(s2.Value.H));
        }
        var loss = F.MseLoss(F.Concat(outputs, 1), target);
        return (g, [loss, new Adam(0.01).Minimize(loss)], [input, target]);
    }

    /// <summary>The parent: one fresh process per figure, then the key=value lines.</summary>
    public static int Command(int[] lengths)
    {
        var results = new List<(string Key, double Value)>();
        foreach (int t in lengths)
        {
            Console.Error.WriteLine($"compiling the LSTM unrolled over T = {t} in a fresh process...");
            var r = Child("lstm", t, cacheDir: null);
            results.Add(($"compile_seconds_T{t}", r["compile_seconds"]));
            Console.Error.WriteLine($"  {r["compile_seconds"]:F2} s, {r["ops"]:F0} ops, {r["kernels"]:F0} kernels; " +
                string.Join(", ", r.Where(kv => kv.Key.StartsWith("stage_")).Select(kv => $"{kv.Key[6..]} {kv.Value:F2}")));
        }
        foreach (var (model, t) in new[] { ("cnn", 0), ("lstm", 200) })
        {
            var dir = Path.Combine(Path.GetTempPath(), $"graphnet-scaling-{Environment.ProcessId}");
            try
            {
                Child(model, t, dir); // fills the cache
                // Three hits, each in a fresh process: the median.
                var hits = Enumerable.Range(0, 3).Select(_ => Child(model, t, dir)).ToList();
                if (hits.Any(h => h["restored"] != 1)) throw new InvalidOperationException($"a cache hit of {model} did not restore its plan");
                double ms = hits.Select(h => h["compile_seconds"] * 1000).Order().ElementAt(1);
                string name = model == "cnn" ? "cnn" : $"lstm{t}";
                results.Add(($"cache_hit_ms_{name}", ms));
                Console.Error.WriteLine($"cache hit of {name} in a fresh process: {ms:F0} ms (median of 3; " +
                    string.Join(", ", hits[1].Where(kv => kv.Key.StartsWith("stage_")).Select(kv => $"{kv.Key[6..]} {kv.Value * 1000:F0} ms")) + ")");
            }
            finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
        }
        Console.Error.WriteLine("time_sequence_prediction through F.Scan (999 steps, 97 sequences), in a fresh process...");
        var scan = Child("scan", 999, cacheDir: null);
        foreach (var key in new[] { "scan_compile_seconds", "scan_step_ms", "eager_step_ms", "scan_loss_first", "scan_loss_last" })
            results.Add((key, scan[key]));
        Console.Error.WriteLine($"  compiled in {scan["scan_compile_seconds"]:F2} s; step {scan["scan_step_ms"]:F0} ms compiled, " +
            $"{scan["eager_step_ms"]:F0} ms eager; loss {scan["scan_loss_first"]:F4} -> {scan["scan_loss_last"]:F4}");
        // The bench LSTM (28 steps, batch 64) as a scan and unrolled, in alternating rounds.
        var (scanned, unrolled) = (new List<double>(), new List<double>());
        for (int round = 0; round < 5; round++)
        {
            scanned.Add(Measure.Run("lstm", "compiled", 64, true, 40).MedianSeconds * 1000);
            unrolled.Add(Measure.Run("lstm-unrolled", "compiled", 64, true, 40).MedianSeconds * 1000);
            Console.Error.WriteLine($"  LSTM training step, round {round + 1}: scan {scanned[^1]:F2} ms, unrolled {unrolled[^1]:F2} ms");
        }
        results.Add(("lstm_scan_step_ms", scanned.Order().ElementAt(2)));
        results.Add(("lstm_unrolled_step_ms", unrolled.Order().ElementAt(2)));
        Console.WriteLine($"machine={Report.Machine()}");
        if (lengths.Contains(100) && lengths.Contains(800))
            results.Add(("ratio_T800_T100", results.First(r => r.Key == "compile_seconds_T800").Value
                / results.First(r => r.Key == "compile_seconds_T100").Value));
        foreach (var (k, v) in results) Console.WriteLine($"{k}={v:F3}");
        return 0;
    }

    /// <summary>The child: builds one model, compiles its training step once, prints what it took.</summary>
    public static int Once(string model, int steps, string? cacheDir)
    {
        if (model == "scan") return ScanOnce(steps, cacheDir);
        var (graph, fetches, feeds) = model switch
        {
            "lstm" => UnrolledLstm(steps),
            "cnn" => CnnStep(),
            _ => throw new ArgumentException($"unknown model '{model}': use lstm or cnn"),
        };
        var cache = cacheDir is null ? null : new CompileCache(cacheDir);
        var exe = Compilation.Compile(graph, fetches, feeds, new CompileOptions
        {
            Verify = false,
            DumpDirectory = Environment.GetEnvironmentVariable("GRAPHNET_DUMP_DIR") is { Length: > 0 } d ? d : null,
        }, cache);
        var report = exe.Report;
        Console.WriteLine($"compile_seconds={report.Total.TotalSeconds:F4}");
        Console.WriteLine($"ops={report.OpCount}");
        Console.WriteLine($"kernels={exe.KernelCount}");
        Console.WriteLine($"kernel_methods={report.Code.Files.Count - 1}");
        Console.WriteLine($"cache={(report.Cache.Length == 0 ? "off" : report.Cache.Replace(' ', '_'))}");
        Console.WriteLine($"restored={(report.Restored ? 1 : 0)}");
        foreach (var (stage, time) in report.Stages) Console.WriteLine($"stage_{stage.Replace(' ', '_')}={time.TotalSeconds:F4}");
        return 0;
    }

    /// <summary>
    /// The child for time_sequence_prediction through F.Scan: compiles its training step (the
    /// first call), times compiled steps and eager steps of the same code, and reports the loss.
    /// </summary>
    private static int ScanOnce(int steps, string? cacheDir)
    {
        var (input, target, _, _) = TimeSequenceModel.SineWaves(length: steps + 1);
        int n = input.Shape[0];
        var options = new SessionOptions { UseCompileCache = cacheDir is not null, CacheDirectory = cacheDir, VerifyPasses = false };
        using (var exec = new Executor(new Graph(seed: 0), ExecutionMode.Deferred, options))
        {
            var train = TimeSequenceModel.TrainStep(exec, n, steps);
            double first = train.Run([input, target])[0].Item();
            var plan = exec.Session!.LastPlan!;
            var exe = exec.Session.Compiled(plan.Fetches, plan.FedTensors.ToDictionary(t => t, t => (NDArray)null!));
            Console.WriteLine($"scan_compile_seconds={exe.Report.Total.TotalSeconds:F4}");
            Console.WriteLine($"kernels={exe.KernelCount}");
            Console.WriteLine($"body_kernels={exe.Bodies.Values.Sum(b => b.KernelCount)}");
            var times = new List<double>();
            double last = first;
            for (int i = 0; i < 12; i++)
            {
                var sw = Stopwatch.StartNew();
                last = train.Run([input, target])[0].Item();
                if (i >= 4) times.Add(sw.Elapsed.TotalMilliseconds);
            }
            Console.WriteLine($"scan_step_ms={times.Order().ElementAt(times.Count / 2):F2}");
            Console.WriteLine($"scan_loss_first={first:F6}");
            Console.WriteLine($"scan_loss_last={last:F6}");
        }
        using (var exec = new Executor(new Graph(seed: 0), ExecutionMode.Eager))
        {
            var train = TimeSequenceModel.TrainStep(exec, n, steps);
            var times = new List<double>();
            for (int i = 0; i < 3; i++)
            {
                var sw = Stopwatch.StartNew();
                train.Run([input, target]);
                if (i >= 1) times.Add(sw.Elapsed.TotalMilliseconds);
            }
            Console.WriteLine($"eager_step_ms={times.Min():F2}");
        }
        return 0;
    }

    private static (Graph, Tensor[], Tensor[]) CnnStep()
    {
        var m = BenchModel.Cnn();
        return (m.Graph, [m.Loss, m.TrainStep], [m.Input, m.Labels]);
    }

    private static Dictionary<string, double> Child(string model, int steps, string? cacheDir)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { typeof(CompileScaling).Assembly.Location, "compile-once", "--model", model, "--steps", steps.ToString(),
                     "--cache", cacheDir ?? "off" })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var lines = p.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"compile-once {model} T={steps} failed ({p.ExitCode}): {stderr.Result}");
        return lines.Select(l => l.Split('=', 2)).Where(kv => kv.Length == 2 && double.TryParse(kv[1], out _))
            .ToDictionary(kv => kv[0], kv => double.Parse(kv[1]));
    }
}
