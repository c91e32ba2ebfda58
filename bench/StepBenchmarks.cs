using BenchmarkDotNet.Attributes;
using GraphNet.Compiler;

namespace GraphNet.Bench;

/// <summary>Training-step time per model and backend (compile excluded: it happens in setup).</summary>
public class StepBenchmarks
{
    [Params("cnn", "mlp", "lstm")] public string Model { get; set; } = "cnn";
    [Params("csharp", "interpreter")] public string Backend { get; set; } = "csharp";

    private Session session = null!;
    private Tensor[] fetches = null!;
    private Dictionary<Tensor, NDArray> feeds = null!;

    [GlobalSetup]
    public void Setup()
    {
        var m = BenchModel.Create(Model);
        session = new Session(m.Graph, new SessionOptions { Backend = Compiler.Backend.Named(Backend) });
        fetches = [m.Loss, m.TrainStep];
        feeds = m.Batch(Model == "cnn" ? 32 : 64);
        session.Run(fetches, feeds);
    }

    [GlobalCleanup] public void Cleanup() => session.Dispose();

    [Benchmark] public NDArray[] TrainingStep() => session.Run(fetches, feeds);
}

/// <summary>Compile time of the CNN training step: without a cache, and from the disk cache.</summary>
public class CompileBenchmarks
{
    private readonly string cacheDir = Path.Combine(Path.GetTempPath(), "graphnet-bench-cache");
    private BenchModel model = null!;

    [GlobalSetup]
    public void Setup()
    {
        model = BenchModel.Cnn();
        Compile(new CompileCache(cacheDir)); // fills the cache and warms Roslyn
    }

    private Executable Compile(CompileCache? cache) =>
        Compilation.Compile(model.Graph, [model.Loss, model.TrainStep], [model.Input, model.Labels], new CompileOptions(), cache);

    [Benchmark] public void CompileWithoutCache() => Compile(null).Dispose();
    [Benchmark] public void CompileFromDiskCache() => Compile(new CompileCache(cacheDir)).Dispose();
}
