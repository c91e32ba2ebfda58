using GraphNet.Runtime;

namespace GraphNet.Compiler;

/// <summary>What a backend prepared for one (fetches, feeds) signature of a graph: it runs steps for every batch size.</summary>
public abstract class Executable : IDisposable
{
    /// <summary>Runs one step: feeds in, fetched values out; assignments update the variables.</summary>
    public abstract NDArray[] Run(IReadOnlyDictionary<Tensor, NDArray> feeds, VariableStore variables, EvalContext eval);

    /// <summary>
    /// Runs one step with the fetched values copied into <paramref name="into"/> (arrays of the
    /// fetches' sizes) rather than into new arrays: a scan's body runs this way every step. The
    /// arrays must not be among the feeds: a backend may compute the fetches in them directly.
    /// </summary>
    public virtual void RunInto(IReadOnlyDictionary<Tensor, NDArray> feeds, VariableStore variables, EvalContext eval, NDArray[] into)
    {
        var outs = Run(feeds, variables, eval);
        for (int i = 0; i < outs.Length; i++) Array.Copy(outs[i].Data, into[i].Data, into[i].Size);
    }

    /// <summary>Receives one event per kernel (or node) run when profiling.</summary>
    public Profiler? Profiler
    {
        get => profiler;
        set { profiler = value; UpdateHooks(); }
    }
    private Profiler? profiler;

    /// <summary>Check every kernel's outputs for NaN and infinity (SessionOptions.CheckNumerics).</summary>
    public bool CheckNumerics
    {
        get => checkNumerics;
        set { checkNumerics = value; UpdateHooks(); }
    }
    private bool checkNumerics;

    /// <summary>Installs or removes the per-kernel hooks after Profiler or CheckNumerics changed.</summary>
    protected virtual void UpdateHooks() { }

    public bool IsDisposed { get; private set; }

    /// <summary>Frees what the backend holds (generated code, device memory).</summary>
    protected virtual void Release() { }

    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        Release();
    }
}

/// <summary>
/// Compiled code for one signature: the optimized unit, its kernels, memory plan and buffer
/// table, and a backend's way to run them (C# on the CPU, or ILGPU kernels on an accelerator).
/// </summary>
public abstract class CompiledExecutable : Executable
{
    private protected CompiledExecutable(Compilation c)
    {
        Unit = c.Unit; UserFetches = c.UserFetches; UserFeeds = c.UserFeeds; Kernels = c.Kernels; Memory = c.Memory; Buffers = c.Buffers;
        Report = c.Report;
        scans = c.Bodies.ToDictionary(kv => kv.Key, kv => new ScanRunner((ScanOp)kv.Key.Op, kv.Value));
        Bodies = c.Bodies;
        // For each feed storage, the user's feed that fills it (−1: the placeholder's default).
        FeedSources = Memory.Feeds.Select(n => Unit.Feeds.ToList().FindIndex(f => f.Node == n)).ToArray();
        Assignments = Unit.Graph.Nodes.Where(n => n.Op is AssignOp).Select(n => (
            Name: ((VariableOp)n.Inputs[0].Node.Op).VarName, Variable: Memory.Variables.IndexOf(n.Inputs[0].Node), Value: n.Inputs[1],
            Storage: Memory.StorageOf[MemoryPlan.Root(n.Inputs[1])], Type: n.OutputTypes[0])).ToArray();
    }

    private readonly Dictionary<Node, ScanRunner> scans;

    /// <summary>The loops that run the scan kernels (tests read how they split the batch).</summary>
    internal IEnumerable<ScanRunner> ScanRunners => scans.Values;

    /// <summary>Each scan kernel's compiled body, by the scan's node.</summary>
    public IReadOnlyDictionary<Node, CompiledExecutable> Bodies { get; }

    /// <summary>Runs a scan kernel: its compiled body once per step, the outputs into <paramref name="into"/> when given.</summary>
    private protected NDArray[] RunScan(Node anchor, NDArray[] inputs, NDArray[]? into, EvalContext eval) =>
        scans[anchor].Run(inputs, into, eval);

    protected sealed override void Release()
    {
        ReleaseBackend();
        foreach (var b in Bodies.Values) b.Dispose();
    }

    /// <summary>Frees what the backend holds (generated code, device memory).</summary>
    private protected virtual void ReleaseBackend() { }

    /// <summary>The optimized unit the code was generated from.</summary>
    public Unit Unit { get; }
    public IReadOnlyList<Kernel> Kernels { get; }
    public MemoryPlan Memory { get; }
    public BufferTable Buffers { get; }
    public CompileReport Report { get; }
    private protected IReadOnlyList<Tensor> UserFetches { get; }
    private protected IReadOnlyList<Tensor> UserFeeds { get; }

    /// <summary>For each feed storage, the index of the user's feed that fills it, or −1 for the placeholder's default.</summary>
    private protected int[] FeedSources { get; }

    /// <summary>Every assignment of the step: the variable, its index, the value and where the value lives.</summary>
    private protected (string Name, int Variable, Tensor Value, Storage Storage, TensorType Type)[] Assignments { get; }

    /// <summary>
    /// Another instance of the same compiled code, with its own buffers, that may run on another
    /// thread while this one runs (a scan's halves of the batch); null where the backend has none.
    /// </summary>
    internal virtual CompiledExecutable? Fork() => null;

    /// <summary>These feeds keep their values through a scan run (its captures), which <see cref="BeginScanRun"/> starts.</summary>
    internal virtual void HoldStill(IEnumerable<Tensor> feeds) { }

    /// <summary>A scan run begins: feeds marked by <see cref="HoldStill"/> may have new values from here on.</summary>
    internal virtual void BeginScanRun() { }

    /// <summary>Matmuls whose right operand this executable packs once a scan run (tests check the LSTM's do).</summary>
    internal virtual int PackedMatMuls => 0;

    /// <summary>The collectible context holding generated code, where the backend unloads it (tests check that it does).</summary>
    internal virtual System.Runtime.Loader.AssemblyLoadContext? LoadContext => null;

    /// <summary>How many batch sizes' buffers the executable keeps now (see <see cref="RecentBatches{T}"/>).</summary>
    internal virtual int BatchSizesKept => 0;

    /// <summary>Kernels launched per run (library calls, generated loops and reference ops).</summary>
    public int KernelCount => Kernels.Count;

    /// <summary>The value of feed storage i this run: the user's feed, or the placeholder's default.</summary>
    private protected NDArray FeedValue(int i, IReadOnlyDictionary<Tensor, NDArray> feeds) =>
        FeedSources[i] >= 0 ? feeds[UserFeeds[FeedSources[i]]]
            : ((PlaceholderOp)Memory.Feeds[i].Op).Default ?? throw new GraphException($"placeholder '{Memory.Feeds[i].Name}' must be fed");

    /// <summary>A kernel output's current values (copied to the host where they live on a device).</summary>
    private protected abstract (Array Data, int Count) OutputValues(Tensor output);

    /// <summary>CheckNumerics: stops at the first kernel output holding NaN or infinity.</summary>
    private protected void CheckKernel(int k)
    {
        foreach (var output in Kernels[k].Outputs)
        {
            // A piece stored into a concatenation's buffer: check the concatenation (its other
            // pieces hold earlier checked values, or this step's, or the last step's).
            var o = Memory.Pieces.TryGetValue(output, out var piece) ? piece.Concat.Outputs[0] : output;
            if (!o.DType.IsFloat()) continue;
            var (data, count) = OutputValues(o);
            int i = NumericCheck.FirstNonFinite(data, count);
            if (i >= 0) throw new NonFiniteException(Kernels[k], o, i);
        }
    }

    /// <summary>
    /// Names the kernel (its nodes and user lines) a generated-code exception came from: the
    /// kernel that was running when the backend knows it, else by the generated members on its stack.
    /// </summary>
    private protected string DescribeFailure(Exception e, int running = -1)
    {
        int? index = running >= 0 ? running : null;
        if (index is null)
        {
            var code = Report.Code; // made again from the kernels if the assembly came from the cache
            foreach (var frame in new System.Diagnostics.StackTrace(e).GetFrames())
            {
                if (frame.GetMethod() is not { DeclaringType: { Namespace: "GraphNet.Generated" } type } m) continue;
                index = code.KernelOf(m.Name) ?? code.KernelOf(type.Name);
                if (index is not null) break;
            }
        }
        if (index is not { } i || i < 0 || i >= Kernels.Count) return $"compiled step failed: {e.Message}";
        var k = Kernels[i];
        return $"{e.Message}\n  in kernel {k.Name}, which runs: {string.Join("; ", k.Nodes.Select(n => n.Describe()))}";
    }

    private protected static Type ClrType(DType t) => t switch
    {
        DType.Float32 => typeof(float), DType.Float64 => typeof(double), DType.Int32 => typeof(int),
        DType.Int64 => typeof(long), DType.Bool => typeof(bool), _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };
}

/// <summary>A kernel produced NaN or infinity; the session then pinpoints the node with the interpreter.</summary>
public sealed class NonFiniteException(Kernel kernel, Tensor output, int index)
    : GraphException($"CheckNumerics: a value that is not finite appeared at element {index} of '{output.Name}' {output.Type}, in kernel {kernel.Name}, which runs: {string.Join("; ", kernel.Nodes.Select(n => n.Describe()))}")
{
    public Kernel Kernel { get; } = kernel;
}
