using GraphNet.Runtime;

namespace GraphNet.Compiler;

/// <summary>How an <see cref="Executor"/> runs functions.</summary>
public enum ExecutionMode
{
    /// <summary>Trace each function once into the graph, then compile and run it through a <see cref="Session"/>.</summary>
    Deferred,
    /// <summary>Run each function op by op on every call, PyTorch style, releasing its tape after the call.</summary>
    Eager,
}

/// <summary>An input of a function: element type and shape (-1 for the batch).</summary>
public sealed record TensorSpec(DType DType, int[] Shape, string Name)
{
    public static TensorSpec Float(string name, params int[] shape) => new(DType.Float32, shape, name);
    public static TensorSpec Int64(string name, params int[] shape) => new(DType.Int64, shape, name);
}

/// <summary>
/// Runs the same model code deferred or eagerly: the mode is the one line that changes. A
/// function is a body from input tensors to output tensors (a loss, a train op, predictions).
/// Deferred, the body is traced once with placeholders and each call is one Session.Run;
/// eager, the body runs on constants every call, and its tape is released afterwards.
/// </summary>
public sealed class Executor : IDisposable
{
    private readonly EagerContext? eager;
    private Session? session;
    private readonly SessionOptions options;
    private readonly Profiler? profiler;

    public Executor(Graph graph, ExecutionMode mode, SessionOptions? options = null)
    {
        Graph = graph; Mode = mode; this.options = options ?? new SessionOptions();
        if (mode == ExecutionMode.Eager)
        {
            eager = new EagerContext(graph);
            if (this.options.ProfilePath is { } path) { profiler = new Profiler(path); eager.OnNode = profiler.Add; eager.CaptureSource = true; }
        }
    }

    public Graph Graph { get; }
    public ExecutionMode Mode { get; }

    /// <summary>The eager context (null in deferred mode).</summary>
    public EagerContext? Eager => eager;

    /// <summary>The session behind deferred functions (null in eager mode).</summary>
    public Session? Session => session;

    /// <summary>Variable values, whichever the mode.</summary>
    public VariableStore Variables => eager?.Variables ?? SessionNow().Variables;

    private Session SessionNow()
    {
        session ??= new Session(Graph, options);
        session.InitializeVariables();
        return session;
    }

    public StepFunction Function(TensorSpec[] inputs, Func<Tensor[], Tensor[]> body) => new(this, inputs, body);

    public void Dispose() { session?.Dispose(); eager?.Dispose(); profiler?.Write(); }

    /// <summary>One function of an executor; <see cref="Run"/> calls it.</summary>
    public sealed class StepFunction
    {
        private readonly Executor owner;
        private readonly TensorSpec[] specs;
        private readonly Func<Tensor[], Tensor[]> body;
        private readonly Tensor[]? placeholders, outputs;
        private (string, TensorType)[]? specTypes;

        internal StepFunction(Executor owner, TensorSpec[] specs, Func<Tensor[], Tensor[]> body)
        {
            (this.owner, this.specs, this.body) = (owner, specs, body);
            if (owner.Mode == ExecutionMode.Deferred)
            {
                placeholders = specs.Select(s => owner.Graph.Placeholder(s.DType, s.Shape, s.Name)).ToArray();
                outputs = body(placeholders);
            }
        }

        /// <summary>Calls the function; <paramref name="training"/> sets the graph's dropout switch.</summary>
        public NDArray[] Run(NDArray[] inputs, bool training = true)
        {
            if (inputs.Length != specs.Length) throw new ArgumentException($"the function takes {specs.Length} inputs ({string.Join(", ", specs.Select(s => s.Name))}), got {inputs.Length}");
            var g = owner.Graph;
            if (owner.eager is { } eager)
            {
                // The declared specs hold in both modes, with deferred mode's messages.
                FeedCheck.Validate(specTypes ??= specs.Select(s => (s.Name, new TensorType(s.DType, new Shape(s.Shape)))).ToArray(), inputs);
                eager.Set(g.Training, NDArray.From([training]));
                using var step = eager.Step();
                var xs = inputs.Select((v, i) => g.Constant(v, specs[i].Name)).ToArray();
                return body(xs).Select(t => t.Value.Clone()).ToArray();
            }
            var feeds = new Dictionary<Tensor, NDArray>();
            for (int i = 0; i < inputs.Length; i++) feeds[placeholders![i]] = inputs[i];
            if (g.HasTrainingSwitch && !training) feeds[g.Training] = NDArray.From([false]);
            return owner.SessionNow().Run(outputs!, feeds);
        }
    }
}
