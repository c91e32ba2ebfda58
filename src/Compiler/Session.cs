using GraphNet.Runtime.Devices;
using GraphNet.Runtime;

namespace GraphNet.Compiler;

/// <summary>Options of a <see cref="Session"/>.</summary>
public sealed record SessionOptions
{
    /// <summary>The engine: <see cref="Backend.CSharp"/> (the default), <see cref="Backend.Interpreter"/> or <see cref="Backend.Ilgpu"/>.</summary>
    public Backend Backend { get; init; } = Backend.CSharp;
    /// <summary>The accelerator of <see cref="Backend.Ilgpu"/>: Auto picks CUDA, then OpenCL, then ILGPU's CPU accelerator.</summary>
    public AcceleratorKind Accelerator { get; init; } = AcceleratorKind.Auto;
    /// <summary>Keep compiled code on disk (~/.cache/graphnet or $GRAPHNET_CACHE_DIR) and reuse it.</summary>
    public bool UseCompileCache { get; init; } = true;
    /// <summary>The compile cache folder; null for the default.</summary>
    public string? CacheDirectory { get; init; }
    /// <summary>Verify the graph after every compiler pass.</summary>
    public bool VerifyPasses { get; init; } = true;
    /// <summary>Stop a run at the first NaN or infinity, naming the node that made it and its source line.</summary>
    public bool CheckNumerics { get; init; }
    /// <summary>Write a folder per compilation here (default: $GRAPHNET_DUMP_DIR).</summary>
    public string? DumpDirectory { get; init; } = Environment.GetEnvironmentVariable("GRAPHNET_DUMP_DIR") is { Length: > 0 } d ? d : null;
    /// <summary>Write a Chrome trace of every kernel run here when the session ends (default: $GRAPHNET_PROFILE).</summary>
    public string? ProfilePath { get; init; } = Environment.GetEnvironmentVariable("GRAPHNET_PROFILE") is { Length: > 0 } p ? p : null;
    /// <summary>Give variables their initial values when the session starts (TF1's global_variables_initializer).</summary>
    public bool InitializeVariables { get; init; } = true;
}

/// <summary>
/// Holds the values of a graph's variables and runs the graph: <c>session.Run(fetches, feeds)</c>.
/// Plans are made once per (fetch set, feed set) and reused.
/// </summary>
public sealed class Session : IDisposable
{
    private readonly Dictionary<string, RunPlan> plans = [];
    private readonly Dictionary<string, Executable> executables = [];
    private readonly HashSet<RunPlan> initializedPlans = [];
    private readonly object gate = new();
    private bool disposed;
    /// <summary>The backend's state for this session (a warm compiler, a device and its variables).</summary>
    private readonly BackendSession backend;

    public Session(Graph graph, SessionOptions? options = null)
    {
        Graph = graph;
        Options = options ?? new SessionOptions();
        backend = Options.Backend.Open(this);
        if (Options.ProfilePath is { } profile) Profiler = new Profiler(profile);
        if (Options.InitializeVariables) Variables.Initialize(graph);
    }

    public Graph Graph { get; }
    public SessionOptions Options { get; }
    public VariableStore Variables { get; } = new();

    /// <summary>How many runs this session has made; keys dropout masks.</summary>
    public long RunCount { get; private set; }

    /// <summary>Initializes variables that have no value yet (e.g. optimizer slots added after the session started).</summary>
    public int InitializeVariables() => Variables.Initialize(Graph);

    public NDArray Run(Tensor fetch, IReadOnlyDictionary<Tensor, NDArray>? feeds = null) => Run([fetch], feeds)[0];

    public NDArray[] Run(IReadOnlyList<Tensor> fetches, IReadOnlyDictionary<Tensor, NDArray>? feeds = null)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        feeds ??= new Dictionary<Tensor, NDArray>();
        if (fetches.Count == 0) throw new ArgumentException("Session.Run needs at least one fetch");
        lock (gate)
        {
            feeds = WithHostScalars(fetches, feeds);
            var plan = LastPlan = PlanFor(fetches, feeds);
            var ctx = new EvalContext { RunCounter = RunCount, GraphSeed = Graph.Seed };
            RunCount++;
            try { return ExecutableFor(plan).Run(feeds, Variables, ctx); }
            catch (NonFiniteException)
            {
                // Nothing was committed; replay node by node to name the first node, then fall back to the kernel.
                Interpreter.Run(plan, feeds, Variables.Snapshot(), ctx, checkNumerics: true);
                throw;
            }
        }
    }

    /// <summary>For each fetch list, the graph's host scalars it depends on (indices into <see cref="Graph.HostScalars"/>).</summary>
    private readonly Dictionary<string, int[]> hostScalarsOf = [];
    private readonly List<NDArray> hostValues = [];

    /// <summary>The feeds with the current value of every host scalar the fetches read (that the caller did not feed).</summary>
    private IReadOnlyDictionary<Tensor, NDArray> WithHostScalars(IReadOnlyList<Tensor> fetches, IReadOnlyDictionary<Tensor, NDArray> feeds)
    {
        var host = Graph.HostScalars;
        if (host.Count == 0) return feeds;
        string key = string.Join(",", fetches.Select(f => $"{f.Node.Id}:{f.Index}"));
        if (!hostScalarsOf.TryGetValue(key, out var needed))
        {
            var reached = new HashSet<Node>();
            var stack = new Stack<Node>(fetches.Select(f => f.Node));
            while (stack.Count > 0)
                if (stack.Pop() is var n && reached.Add(n)) foreach (var i in n.Inputs) stack.Push(i.Node);
            hostScalarsOf[key] = needed = Enumerable.Range(0, host.Count).Where(i => reached.Contains(host[i].Placeholder.Node)).ToArray();
        }
        if (needed.Length == 0) return feeds;
        var all = new Dictionary<Tensor, NDArray>(feeds);
        while (hostValues.Count < host.Count) hostValues.Add(NDArray.Scalar(host[hostValues.Count].Placeholder.DType, 0));
        foreach (int i in needed)
        {
            var (t, value) = host[i];
            if (all.ContainsKey(t)) continue;
            hostValues[i].SetDouble(0, value());
            all[t] = hostValues[i];
        }
        return all;
    }

    private RunPlan PlanFor(IReadOnlyList<Tensor> fetches, IReadOnlyDictionary<Tensor, NDArray> feeds)
    {
        foreach (var f in fetches.Concat(feeds.Keys))
            if (f.Graph != Graph) throw new GraphException($"'{f.Name}' belongs to another Graph than this session's; build fetches and feeds in the session's graph");
        var fed = feeds.Keys.OrderBy(t => t.Node.Id).ThenBy(t => t.Index).ToArray();
        foreach (var t in fed)
            if (t.Node.Op is not PlaceholderOp)
                throw new GraphException($"'{t.Name}' is a {t.Node.Op.Name}, not a placeholder; only placeholders can be fed");
        string key = SignatureKey(fetches, fed);
        if (!plans.TryGetValue(key, out var plan))
        {
            plans[key] = plan = new RunPlan(Graph, fetches, fed);
            var used = new HashSet<Node>(plan.Schedule);
            foreach (var t in fed)
                if (!used.Contains(t.Node) && !(Graph.HasTrainingSwitch && t == Graph.Training))
                {
                    plans.Remove(key);
                    throw new GraphException($"feed '{t.Name}' is not used by the fetches ({string.Join(", ", fetches.Select(f => $"'{f.Name}'"))}); remove it from the feeds, or fetch something that depends on it");
                }
        }
        // Variables never lose their values, so a plan whose variables were all set once needs no second look.
        if (initializedPlans.Contains(plan)) return plan;
        foreach (var node in plan.Schedule)
            if (node.Op is VariableOp v && !Variables.IsInitialized(v.VarName))
                throw new GraphException($"variable '{v.VarName}' (made at {node.Source}) is not initialized; call session.InitializeVariables() after adding variables, or restore a checkpoint");
        initializedPlans.Add(plan);
        return plan;
    }

    /// <summary>The kernel profiler, when SessionOptions.ProfilePath is set.</summary>
    public Profiler? Profiler { get; }

    /// <summary>The plan of the latest run (benchmarks read its size).</summary>
    public RunPlan? LastPlan { get; private set; }

    /// <summary>How many executables this session prepared (compiled, or loaded from the cache).</summary>
    public int CompileCount { get; private set; }

    /// <summary>The compiled executable for a run signature (compiling on first use); for compiling backends.</summary>
    public CompiledExecutable Compiled(IReadOnlyList<Tensor> fetches, IReadOnlyDictionary<Tensor, NDArray>? feeds = null)
    {
        lock (gate)
            return ExecutableFor(PlanFor(fetches, WithHostScalars(fetches, feeds ?? new Dictionary<Tensor, NDArray>()))) as CompiledExecutable
                ?? throw new InvalidOperationException(
                    $"the {Options.Backend} backend compiles nothing; Compiled() needs a compiling backend (csharp, ilgpu)");
    }

    private Executable ExecutableFor(RunPlan plan)
    {
        string key = SignatureKey(plan.Fetches, plan.FedTensors);
        if (executables.TryGetValue(key, out var exe)) return exe;
        exe = backend.Prepare(this, plan);
        exe.Profiler = Profiler;
        exe.CheckNumerics = Options.CheckNumerics;
        CompileCount++;
        return executables[key] = exe;
    }

    // What a run computes depends only on its fetches and feeds: nodes are immutable and read
    // only earlier nodes, so nodes added later (a new Executor function) change no plan.
    private static string SignatureKey(IEnumerable<Tensor> fetches, IEnumerable<Tensor> fed) =>
        string.Join(",", fetches.Select(f => $"{f.Node.Id}:{f.Index}")) + "|" + string.Join(",", fed.Select(f => $"{f.Node.Id}:{f.Index}"));

    /// <summary>
    /// A copy of a variable's current value, by name. (A copy: compiled steps reuse the arrays of
    /// earlier values as their next buffers.)
    /// </summary>
    public NDArray GetVariable(string name) => Variables.Get(name).Clone();

    /// <summary>
    /// Sets a variable's value (shape and dtype must match) to a copy of <paramref name="value"/>,
    /// as PyTorch's <c>load_state_dict</c> copies: compiled steps write into the arrays they hold,
    /// so the caller's array would otherwise change under them on later steps.
    /// </summary>
    public void SetVariable(string name, NDArray value)
    {
        var v = (VariableOp)Graph.GetVariable(name).Node.Op;
        if (value.DType != v.Type.DType || !value.Shape.SequenceEqual(v.Type.Shape.Dims))
            throw new GraphException($"variable '{name}' is {v.Type}; cannot set it to {value.DType.ShortName()}{value.ShapeString}");
        Variables.Set(name, value.Clone());
    }

    /// <summary>Unloads compiled code. The session cannot run afterwards.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            if (disposed) return;
            disposed = true;
            foreach (var e in executables.Values) e.Dispose();
            executables.Clear();
            backend.Dispose();
            Profiler?.Write();
        }
    }
}
