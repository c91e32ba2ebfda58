using GraphNet.Runtime;

namespace GraphNet.Compiler;

/// <summary>
/// Compiled code for one (fetches, feeds) signature of a graph, for every batch size: the
/// optimized unit, its kernels and memory plan, and a backend's way to run them (C# on the CPU,
/// or ILGPU kernels on an accelerator).
/// </summary>
public abstract class Executable : IDisposable
{
    private protected Executable(Unit unit, IReadOnlyList<Tensor> fetches, IReadOnlyList<Tensor> feeds, List<Kernel> kernels, MemoryPlan memory,
        Dictionary<Storage, int> index, CompileReport report)
    {
        Unit = unit; UserFetches = fetches; UserFeeds = feeds; Kernels = kernels; Memory = memory; Index = index; Report = report;
        SlotBase = memory.Feeds.Count + memory.Variables.Count + memory.Constants.Count;
        NextBase = SlotBase + memory.Slots.Count;
        Assignments = unit.Graph.Nodes.Where(n => n.Op is AssignOp).Select(n => (Name: ((VariableOp)n.Inputs[0].Node.Op).VarName,
            Variable: memory.Variables.IndexOf(n.Inputs[0].Node), Value: n.Inputs[1], Storage: memory.StorageOf[MemoryPlan.Root(n.Inputs[1])], Type: n.OutputTypes[0])).ToArray();
    }

    /// <summary>Where the slots and the variables' second buffers start in the buffer table.</summary>
    private protected int SlotBase { get; }
    private protected int NextBase { get; }

    /// <summary>Every assignment of the step: the variable, its index, the value and where the value lives.</summary>
    private protected (string Name, int Variable, Tensor Value, Storage Storage, TensorType Type)[] Assignments { get; }

    /// <summary>The optimized unit the code was generated from.</summary>
    public Unit Unit { get; }
    public IReadOnlyList<Kernel> Kernels { get; }
    public MemoryPlan Memory { get; }
    public CompileReport Report { get; }
    public bool IsDisposed { get; private set; }
    private protected IReadOnlyList<Tensor> UserFetches { get; }
    private protected IReadOnlyList<Tensor> UserFeeds { get; }
    /// <summary>Buffer index of every storage: feeds, variables, constants, slots, variables' second buffers.</summary>
    private protected Dictionary<Storage, int> Index { get; }

    /// <summary>The collectible context holding generated code, where the backend unloads it (tests check that it does).</summary>
    internal virtual System.Runtime.Loader.AssemblyLoadContext? LoadContext => null;

    /// <summary>Kernels launched per run (library calls, generated loops and reference ops).</summary>
    public int KernelCount => Kernels.Count;

    /// <summary>Receives one event per kernel run when profiling.</summary>
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
    protected abstract void UpdateHooks();

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

    /// <summary>Runs one step: feeds in, fetched values out; assignments update the variables.</summary>
    public abstract NDArray[] Run(IReadOnlyDictionary<Tensor, NDArray> feeds, VariableStore variables, EvalContext eval);

    /// <summary>Names the kernel (its nodes and user lines) a generated-code exception came from.</summary>
    private protected string DescribeFailure(Exception e)
    {
        var frame = new System.Diagnostics.StackTrace(e).GetFrames().Select(f => f.GetMethod())
            .FirstOrDefault(m => m?.DeclaringType?.Namespace == "GraphNet.Generated" && (m.Name.StartsWith('K') || m.DeclaringType.Name.StartsWith('K')));
        var name = frame is null ? null : frame.Name.StartsWith('K') ? frame.Name : frame.DeclaringType!.Name;
        var index = name is null ? -1 : int.Parse(new string(name.Skip(1).TakeWhile(char.IsDigit).ToArray()));
        if (index < 0 || index >= Kernels.Count) return $"compiled step failed: {e.Message}";
        var k = Kernels[index];
        return $"{e.Message}\n  in kernel {k.Name}, which runs: {string.Join("; ", k.Nodes.Select(n => n.Describe()))}";
    }

    private protected static Type ClrType(DType t) => t switch
    {
        DType.Float32 => typeof(float), DType.Float64 => typeof(double), DType.Int32 => typeof(int),
        DType.Int64 => typeof(long), DType.Bool => typeof(bool), _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    /// <summary>Frees what the backend holds (generated code, device memory).</summary>
    protected abstract void Release();

    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        Release();
    }
}

/// <summary>A kernel produced NaN or infinity; the session then pinpoints the node with the interpreter.</summary>
public sealed class NonFiniteException(Kernel kernel, Tensor output, int index)
    : GraphException($"CheckNumerics: a value that is not finite appeared at element {index} of '{output.Name}' {output.Type}, in kernel {kernel.Name}, which runs: {string.Join("; ", kernel.Nodes.Select(n => n.Describe()))}")
{
    public Kernel Kernel { get; } = kernel;
}
