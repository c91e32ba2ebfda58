using System.Reflection;

namespace GraphNet.Nn;

/// <summary>
/// A layer or a model, PyTorch style: a module's parameters and buffers are named by the path of
/// fields that leads to them ("conv1.weight", "main.0.bias"), with no strings to pass.
/// <para>
/// A module made without a graph (<c>new Linear(784, 10)</c>, the PyTorch way) creates its
/// variables the first time any module of its tree runs, on the graph of that input: the tree's
/// outermost module names every parameter below it then. Made with a graph and a name (the TF1
/// way, <c>new Linear(g, "fc1", 784, 10)</c>) it creates them at once, named "fc1.weight".
/// </para>
/// </summary>
public abstract class Module
{
    // Modules made on this thread that no module has claimed as a child yet: the candidates for
    // being someone's parent when a module first runs (a child cannot see who holds it).
    [ThreadStatic] private static List<WeakReference<Module>>? unclaimed;

    private readonly List<Parameter> own = [];
    private List<(string Name, Module Child)>? children;
    private Module? parent;
    private string scopeName = "";
    private Graph? graph;

    /// <summary>A module whose variables are made when it first runs (see the class summary).</summary>
    protected Module() => (unclaimed ??= []).Add(new WeakReference<Module>(this));

    /// <summary>
    /// Binds the module to <paramref name="g"/> now, its variables named "<paramref name="name"/>.weight"
    /// (what a layer's TF1-style constructor, taking a graph and a name, calls last).
    /// </summary>
    protected void BindAs(Graph g, string name)
    {
        this.name = name;
        Bind(g, name);
    }

    /// <summary>
    /// The name of an outermost module's variables in the graph ("netD" makes "netD.main.0.weight");
    /// without one they are named by their paths alone, unless those names are taken in the graph.
    /// The names in <see cref="StateDict"/> never include it.
    /// </summary>
    public string? Name { get => name; init => name = value; }
    private string? name;

    /// <summary>The graph this module's variables live on; set when it first runs.</summary>
    public Graph Graph => graph ?? throw Unbound();

    /// <summary>Whether the module's variables have been made (it has run, or was made with a graph).</summary>
    public bool IsBound => graph is not null;

    /// <summary>Training mode (the default), as PyTorch's <c>module.training</c>; see <see cref="Train"/>.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>
    /// The one-tensor forward pass, what <see cref="Sequential"/> calls. Layers of other inputs
    /// (recurrent ones, embeddings of a state) define their own <c>Forward</c> overloads.
    /// </summary>
    public virtual Tensor Forward(Tensor x) =>
        throw new GraphException($"{GetType().Name} does not define Forward(Tensor); call the Forward it defines");

    /// <summary>Sets training mode on this module and every module below it; returns this module.</summary>
    public Module Train(bool mode = true)
    {
        Training = mode;
        foreach (var (_, c) in Children()) c.Train(mode);
        return this;
    }

    /// <summary>Evaluation mode: dropout passes values through, normalization uses its running statistics.</summary>
    public Module Eval() => Train(false);

    /// <summary>
    /// Calls <paramref name="fn"/> on every module below this one and then on this one, as PyTorch's
    /// <c>module.apply(fn)</c> (a custom initialization: set <see cref="Parameter.Initializer"/>s before the first run).
    /// </summary>
    public Module Apply(Action<Module> fn)
    {
        foreach (var (_, c) in Children()) c.Apply(fn);
        fn(this);
        return this;
    }

    /// <summary>This module's own parameter or buffer of that name ("weight"), bound or not.</summary>
    public Parameter GetParameter(string name) => own.FirstOrDefault(p => p.Name == name)
        ?? throw new GraphException($"{GetType().Name} has no parameter '{name}'; it has: {string.Join(", ", own.Select(p => p.Name))}");

    /// <summary>The modules this one holds directly, with their names, in declaration order.</summary>
    public virtual IReadOnlyList<(string Name, Module Child)> Children() =>
        // Found again until bound: a model's fields may still be replaced before it first runs.
        children ?? (graph is null ? FindChildren() : children = FindChildren());

    /// <summary>This module ("") and every module below it, with their paths, parents first.</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        yield return (prefix, this);
        foreach (var (n, c) in Children())
            foreach (var m in c.NamedModules(Join(prefix, n))) yield return m;
    }

    /// <summary>Trainable parameters with their paths, as PyTorch's <c>named_parameters()</c> (each once).</summary>
    public IEnumerable<(string Name, Tensor Parameter)> NamedParameters() =>
        Distinct(Entries().Where(e => e.Slot.Trainable));

    /// <summary>Buffers (BatchNorm's running statistics) with their paths, as PyTorch's <c>named_buffers()</c>.</summary>
    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers() => Distinct(Entries().Where(e => !e.Slot.Trainable));

    /// <summary>How many trainable numbers the module has (each shared parameter once); needs no first run.</summary>
    public long ParameterCount() =>
        Entries().Where(e => e.Slot.Trainable).Select(e => e.Slot).Distinct().Sum(p => p.Shape.Aggregate(1L, (a, d) => a * d));

    /// <summary>The trainable parameters, for an optimizer's variable list.</summary>
    public IReadOnlyList<Tensor> Parameters() => NamedParameters().Select(p => p.Parameter).ToList();

    /// <summary>
    /// The variables of PyTorch's <c>state_dict()</c>: each module's parameters then its buffers,
    /// parents before children, keyed by path. Read or load their values with the runtime's
    /// <c>StateDicts</c> (safetensors files a PyTorch state_dict saved load directly).
    /// </summary>
    public IReadOnlyList<(string Name, Tensor Variable)> StateDict() => Distinct(Entries()).ToList();

    /// <summary>Registers a trainable parameter, made on the graph when the module is bound.</summary>
    protected Parameter RegisterParameter(string name, int[] shape, Initializer init, DType dtype = DType.Float32) =>
        Register(new Parameter(this, name, shape, init, dtype, trainable: true));

    /// <summary>Registers a buffer: state that is saved but not trained (PyTorch's register_buffer).</summary>
    protected Parameter RegisterBuffer(string name, int[] shape, Initializer init, DType dtype = DType.Float32) =>
        Register(new Parameter(this, name, shape, init, dtype, trainable: false));

    /// <summary>
    /// Starts a forward pass on <paramref name="x"/>'s graph: binds the module's tree there if this
    /// is its first run, and opens the module's name scope for the nodes it adds.
    /// </summary>
    protected IDisposable Enter(Tensor x)
    {
        Bind(x.Graph);
        return scopeName.Length == 0 ? NoScope.Instance : x.Graph.NameScope(scopeName);
    }

    /// <summary>
    /// The training switch of this module on <paramref name="g"/>: true while the module is in
    /// training mode (read on every run, so Eval() needs no recompilation) and the graph's own
    /// <see cref="Graph.Training"/> switch is not fed false.
    /// </summary>
    protected Tensor TrainingSwitch(Graph g)
    {
        var mine = g.HostScalar("training", () => Training ? 1 : 0, DType.Bool);
        return F.Where(g.Training, mine, g.Training);
    }

    /// <summary>PyTorch's default for weights and biases: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).</summary>
    protected static Initializer FanInUniform(int fanIn) { double b = 1 / Math.Sqrt(fanIn); return Initializer.Uniform(-b, b); }

    /// <summary>A normalization's elementwise affine: weight ones and bias zeros, as PyTorch's.</summary>
    protected (Parameter Weight, Parameter Bias) Affine(int[] shape, DType dtype) =>
        (RegisterParameter("weight", shape, Initializer.Ones, dtype), RegisterParameter("bias", shape, Initializer.Zeros, dtype));

    public override string ToString() => scopeName.Length > 0 ? $"{GetType().Name} '{scopeName}'" : GetType().Name;

    private Parameter Register(Parameter p)
    {
        if (own.Any(o => o.Name == p.Name)) throw new GraphException($"{this} registers '{p.Name}' twice");
        own.Add(p);
        if (graph is not null) p.Materialize(graph, Join(VariablePrefix(), p.Name));
        return p;
    }

    private IEnumerable<(string Name, Parameter Slot)> Entries(string prefix = "")
    {
        foreach (var p in own) yield return (Join(prefix, p.Name), p);
        foreach (var (n, c) in Children())
            foreach (var e in c.Entries(Join(prefix, n))) yield return e;
    }

    // A module held twice (shared weights) lists its parameters once, under its first path.
    private static IEnumerable<(string, Tensor)> Distinct(IEnumerable<(string Name, Parameter Slot)> entries)
    {
        var seen = new HashSet<Parameter>();
        foreach (var (n, p) in entries)
            if (seen.Add(p)) yield return (n, p.Tensor);
    }

    private string VariablePrefix() => parent is null ? Name ?? rootPrefix : Join(parent.VariablePrefix(), localName);
    private string rootPrefix = "";
    private string localName = "";

    private void Bind(Graph g)
    {
        if (graph is not null)
        {
            // A loop body built inside the module's graph (an F.Scan step) uses the variables from there.
            if (graph != g && !g.IsInside(graph))
                throw new GraphException($"{this} has its variables on another graph; make a new module for this graph");
            return;
        }
        ClaimChildren();
        var root = this;
        while (root.parent is not null) root = root.parent;
        root.rootPrefix = root.Name ?? FreePrefix(root, g);
        root.Bind(g, root.VariablePrefix());
    }

    private void Bind(Graph g, string scope)
    {
        graph = g;
        scopeName = scope;
        foreach (var p in own) p.Materialize(g, Join(VariablePrefix(), p.Name));
        foreach (var (n, c) in Children())
        {
            if (c.graph is not null) continue;
            if (c.parent is null) (c.parent, c.localName) = (this, n);
            c.Bind(g, n);
        }
    }

    // Paths alone when none is taken; otherwise the model's type ("discriminator", then
    // "discriminator_1", ...), so two models of one graph never share a variable.
    private static string FreePrefix(Module root, Graph g)
    {
        var paths = root.Entries().Select(e => e.Name).ToList();
        bool Free(string prefix) => paths.All(p => !g.HasVariable(Join(prefix, p)));
        if (Free("")) return "";
        string type = root.GetType().Name.ToLowerInvariant();
        for (int k = 0; ; k++)
            if (Free(k == 0 ? type : $"{type}_{k}")) return k == 0 ? type : $"{type}_{k}";
    }

    private static void ClaimChildren()
    {
        if (unclaimed is null) return;
        foreach (var weak in unclaimed.ToArray())
        {
            if (!weak.TryGetTarget(out var m)) continue;
            IReadOnlyList<(string, Module)> held;
            try { held = m.Children(); }
            catch (GraphException) { continue; } // a module that cannot list its children says so when it runs
            foreach (var (n, c) in held)
                if (c.parent is null && c.graph is null && !ReferenceEquals(c, m) && !IsAncestor(c, m)) (c.parent, c.localName) = (m, n);
        }
        unclaimed.RemoveAll(w => !w.TryGetTarget(out var m) || m.parent is not null || m.graph is not null);
    }

    private static bool IsAncestor(Module a, Module m)
    {
        for (var p = m.parent; p is not null; p = p.parent) if (ReferenceEquals(p, a)) return true;
        return false;
    }

    // The fields (and auto-properties) that hold modules, base class first, in declaration order.
    private List<(string, Module)> FindChildren()
    {
        var found = new List<(string, Module)>();
        var types = new List<Type>();
        for (var t = GetType(); t is not null && t != typeof(Module); t = t.BaseType) types.Insert(0, t);
        foreach (var t in types)
            foreach (var f in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                string name = f.GetCustomAttribute<StateNameAttribute>()?.Name ?? FieldName(f.Name);
                if (typeof(Module).IsAssignableFrom(f.FieldType))
                {
                    if (f.GetValue(this) is Module m) found.Add((name, m));
                }
                else if (f.FieldType != typeof(string) && typeof(System.Collections.IEnumerable).IsAssignableFrom(f.FieldType)
                    && f.FieldType.GetInterfaces().Append(f.FieldType).Any(HoldsModules))
                    throw new GraphException($"{GetType().Name}.{name} is a collection of modules, whose parameters would not be found; " +
                        "hold them in a ModuleList (or Sequential), as in PyTorch");
            }
        return found;
    }

    private static bool HoldsModules(Type t) => t.IsGenericType && t.GetGenericArguments().Any(a => typeof(Module).IsAssignableFrom(a));

    // "<Encoder>k__BackingField" is the property Encoder; "_fc1" is fc1.
    private static string FieldName(string field) =>
        field.StartsWith('<') ? field[1..field.IndexOf('>')] : field.TrimStart('_');

    internal static string Join(string a, string b) => a.Length == 0 ? b : b.Length == 0 ? a : a + "." + b;

    private GraphException Unbound() => new($"{GetType().Name} has no graph yet: its variables are made the first time it runs " +
        "(call Forward on a graph's tensor before asking for its parameters)");

    private sealed class NoScope : IDisposable
    {
        public static readonly NoScope Instance = new();
        public void Dispose() { }
    }
}

/// <summary>
/// A module's parameter or buffer: its name, shape, dtype and initializer, and once the module is
/// bound, its graph variable (<see cref="Tensor"/>).
/// </summary>
public sealed class Parameter
{
    private readonly Module owner;
    private Initializer init;
    private Tensor? tensor;

    internal Parameter(Module owner, string name, int[] shape, Initializer init, DType dtype, bool trainable)
    {
        (this.owner, this.init) = (owner, init);
        (Name, Shape, DType, Trainable) = (name, shape, dtype, trainable);
    }

    public string Name { get; }
    public int[] Shape { get; }
    public DType DType { get; }
    public bool Trainable { get; }

    /// <summary>How the variable gets its first value; settable until the module first runs.</summary>
    public Initializer Initializer
    {
        get => init;
        set => init = tensor is null ? value : throw new GraphException($"'{Name}' of {owner} has been made already: " +
            "set initializers before the module first runs (or load a state dict)");
    }

    /// <summary>The graph variable; an error before the module has run.</summary>
    public Tensor Tensor => tensor ?? throw new GraphException($"'{Name}' of {owner.GetType().Name} has no graph yet: " +
        "a module's variables are made the first time it runs (call Forward first)");

    internal void Materialize(Graph g, string name) => tensor = g.Variable(name, Shape, init, DType, Trainable);

    public static implicit operator Tensor(Parameter p) => p.Tensor;
}

/// <summary>
/// The name a module field takes in parameter paths and state dicts, where PyTorch's differs from
/// a C# field name: <c>[StateName("self_attn")] private readonly MultiheadAttention selfAttn;</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Field)]
public sealed class StateNameAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}
