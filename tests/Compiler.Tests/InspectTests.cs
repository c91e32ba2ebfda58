using System.Text.Json;
using System.Text.RegularExpressions;
using GraphNet.Bench;

namespace GraphNet.Compiler.Tests;

/// <summary>Dumps, the HTML report, profiling and run-time errors that name kernels.</summary>
public class InspectTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("graphnet-inspect-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    [Fact]
    public void TheCnnTrainingStepDumpHasEveryItem()
    {
        var m = BenchModel.Cnn();
        m.Graph.Name = "cnn";
        using var s = new Session(m.Graph, new SessionOptions { DumpDirectory = dir, UseCompileCache = false });
        var exe = s.Compiled([m.Loss, m.TrainStep], m.Batch(2));
        var folder = exe.Report.DumpFolder!;
        Assert.StartsWith(Path.Combine(dir, "cnn-"), folder);
        // Every stage of the pipeline, in order, left its output: NN-stage.ext.
        var stages = Directory.GetFiles(Path.Combine(folder, "stages")).Select(Path.GetFileName).ToArray();
        var pipeline = Pipeline.Stages((CompilingBackend)Backend.CSharp);
        for (int i = 0; i < pipeline.Count; i++)
            Assert.Contains(stages, f => f!.StartsWith($"{i:D2}-{pipeline[i].Name}."));
        Assert.Contains("02-check.txt", stages);
        Assert.Contains(stages, f => f!.EndsWith("-fuse.json"));
        Assert.Contains(stages, f => f!.EndsWith("-plan_memory.json"));
        foreach (var f in new[] { "fused.svg", "timings.txt", "report.html" })
            Assert.True(File.Exists(Path.Combine(folder, f)), $"{f} is missing from {folder}");
        string Stage(string name, string ext) => File.ReadAllText(Directory.GetFiles(Path.Combine(folder, "stages"), $"*-{name}.{ext}").Single());

        // Fusion report: one line per node with a reason; JSON with every group (one kernel each).
        var fusion = JsonDocument.Parse(Stage("fuse", "json"));
        Assert.Equal(exe.KernelCount, fusion.RootElement.GetProperty("groups").GetArrayLength());
        Assert.Equal(exe.Unit.Graph.Nodes.Count, fusion.RootElement.GetProperty("decisions").GetArrayLength());
        Assert.Contains("arena", Stage("plan_memory", "txt"));
        Assert.Contains("kernel 0 ", Stage("lower", "txt"));
        Assert.Contains("cache: off", Stage("build", "txt"));

        // Every kernel names its nodes and the user lines they came from, in the code and the report.
        var code = Stage("generate", "cs");
        foreach (var k in exe.Kernels)
        {
            Assert.Contains($"// kernel {k.Index}: ", code);
            foreach (var n in k.Nodes) Assert.Contains($"%{n.Id} {n.Op.Name} '{n.Name}'", code);
            Assert.All(k.SourceLines, l => Assert.Matches(@"^\w+\.cs:\d+( \(backward\))?$", l));
        }

        // The HTML report: self-contained, one entry per kernel, the fused graph, reasons, memory, timings.
        var html = File.ReadAllText(Path.Combine(folder, "report.html"));
        Assert.Equal(exe.KernelCount, Regex.Matches(html, "<section class=\"kernel\" id=\"k\\d+\">").Count);
        Assert.Equal(exe.KernelCount, Regex.Matches(html, "<li><a href=\"#k\\d+\">").Count);
        Assert.Contains("<svg", html);
        Assert.Contains("Fusion decisions", html);
        Assert.Contains("Memory timeline", html);
        Assert.Contains("Stage timings", html);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org", ""));
        Assert.DoesNotContain("https://", html);
    }

    [Fact]
    public void ProfilingWritesOneTraceEventPerKernelRunWithNodesAndLines()
    {
        var m = BenchModel.Mlp();
        var path = Path.Combine(dir, "trace.json");
        int kernels;
        using (var s = new Session(m.Graph, new SessionOptions { ProfilePath = path, UseCompileCache = false }))
        {
            for (int i = 0; i < 3; i++) s.Run([m.Loss, m.TrainStep], m.Batch(8));
            kernels = s.Compiled([m.Loss, m.TrainStep], m.Batch(8)).KernelCount;
        }
        var trace = JsonDocument.Parse(File.ReadAllText(path)).RootElement.GetProperty("traceEvents");
        Assert.Equal(3 * kernels, trace.GetArrayLength());
        var limits = Runtime.MachineLimits.Current;
        foreach (var e in trace.EnumerateArray())
        {
            Assert.Equal("X", e.GetProperty("ph").GetString());
            Assert.True(e.GetProperty("dur").GetDouble() >= 0);
            var args = e.GetProperty("args");
            Assert.Contains("%", args.GetProperty("nodes").GetString());
            Assert.Contains("Models.cs:", args.GetProperty("lines").GetString());
            // Each run's figures against the machine: GFLOP/s is its FLOPs over its time, the fractions are of the measured limits.
            double flops = args.GetProperty("flops").GetDouble(), gflops = args.GetProperty("gflops").GetDouble();
            double us = Math.Max(e.GetProperty("dur").GetDouble(), 1e-3);
            Assert.Equal(flops / us / 1e3, gflops, 0.02 * gflops + 1e-3);
            Assert.Equal(gflops / limits.PeakGflops, args.GetProperty("peak_fraction").GetDouble(), 1e-3);
            Assert.Equal(args.GetProperty("gbps").GetDouble() / limits.BandwidthGBs, args.GetProperty("bandwidth_fraction").GetDouble(), 1e-3);
            var bound = args.GetProperty("bound").GetString();
            Assert.Equal(flops / args.GetProperty("bytes").GetDouble() >= limits.Balance ? "compute" : "memory", bound);
        }
        // The first layer's GEMM at batch 8: 2·8·784·512 FLOPs, and its bias and ReLU (two per output).
        var gemm = trace.EnumerateArray().First(e => e.GetProperty("args").GetProperty("flops").GetDouble() == 2.0 * 8 * 784 * 512 + 2 * 8 * 512);
        Assert.True(gemm.GetProperty("args").GetProperty("bytes").GetDouble() >= 784 * 512 * 4);
        var report = File.ReadAllText(Path.ChangeExtension(path, ".html"));
        Assert.Contains("Kernels by time", report);
        Assert.Contains("GB/s memory bandwidth", report);
        Assert.Equal(kernels, Regex.Matches(report, "<tr><td class=\"l\">").Count);
    }

    [Theory]
    [InlineData(ExecutionMode.Deferred, "interpreter"), InlineData(ExecutionMode.Eager, "csharp")]
    public void TheInterpreterAndEagerModeTraceEveryOp(ExecutionMode mode, string backend)
    {
        var path = Path.Combine(dir, $"trace-{mode}.json");
        var spec = ModelSpec.Mlp;
        using (var exec = new Executor(new Graph(seed: 1), mode, new SessionOptions { Backend = Backend.Named(backend), ProfilePath = path }))
        {
            var (train, _) = spec.Functions(exec);
            var (x, y) = spec.Batch(4);
            train.Run([x, y]);
            train.Run([x, y]);
        }
        var trace = JsonDocument.Parse(File.ReadAllText(path)).RootElement.GetProperty("traceEvents");
        Assert.True(trace.GetArrayLength() > 100, $"{trace.GetArrayLength()} events");
        Assert.Contains(trace.EnumerateArray(), e => e.GetProperty("name").GetString()!.StartsWith("matmul"));
        Assert.Contains(trace.EnumerateArray(), e => e.GetProperty("args").GetProperty("lines").GetString()!.Contains("Models.cs:"));
    }

    [Fact]
    public void ErrorsInsideCompiledKernelsNameTheKernelItsNodesAndTheLine()
    {
        var g = new Graph();
        var logits = g.Placeholder([-1, 3], "logits");
        var labels = g.Placeholder(DType.Int64, [-1], "labels");
        var loss = F.CrossEntropy(logits, labels);
        using var s = new Session(g, new SessionOptions { UseCompileCache = false });
        var e = Assert.ThrowsAny<GraphException>(() => s.Run(loss, new Dictionary<Tensor, NDArray>
        {
            [logits] = NDArray.Zeros(DType.Float32, 2, 3), [labels] = NDArray.From(new long[] { 1, 7 }, 2),
        }));
        Assert.Contains("index 7 is out of range [0, 3)", e.Message);
        Assert.Contains("in kernel", e.Message);
        Assert.Contains("one_hot", e.Message);
        Assert.Contains("InspectTests.cs:", e.Message);
    }
}
