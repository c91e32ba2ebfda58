using System.Diagnostics;
using GraphNet.Compiler.Passes;

namespace GraphNet.Compiler;

/// <summary>What a compilation did and how long each stage took.</summary>
public sealed class CompileReport
{
    /// <summary>Every stage of the pipeline in order, with its time.</summary>
    public List<(string Stage, TimeSpan Time)> Stages { get; } = [];
    public IReadOnlyList<Kernel> Kernels { get; internal set; } = [];
    public MemoryPlan? Memory { get; internal set; }
    /// <summary>The unit the kernels were made from (after the graph passes).</summary>
    public Unit? Optimized { get; internal set; }
    public FusionPlan Fusion { get; internal set; } = new();

    /// <summary>The generated code (made again from the kernels when the assembly came from the cache).</summary>
    public GeneratedCode Code
    {
        get => code ??= CodeFactory?.Invoke() ?? throw new InvalidOperationException("no code was generated");
        internal set => code = value;
    }
    private GeneratedCode? code;
    internal Func<GeneratedCode>? CodeFactory { get; set; }

    /// <summary>The generated source as one text.</summary>
    public string Source => Code.Text;
    public string CacheKey { get; internal set; } = "";
    /// <summary>"hit", or the reason for the miss ("" with no cache).</summary>
    public string Cache { get; internal set; } = "";
    /// <summary>Whether the whole plan came from the compile cache, so that only loading ran (see <see cref="Restore"/>).</summary>
    public bool Restored { get; internal set; }
    /// <summary>Whether the build stage compiled the code (false when the assembly came from the disk cache).</summary>
    public bool Built { get; internal set; }
    public TimeSpan Total { get; internal set; }
    public int OpCount { get; internal set; }
    /// <summary>The dump folder written for this compilation, if any.</summary>
    public string? DumpFolder { get; internal set; }

    /// <summary>
    /// The kernels that run an op's reference evaluation (scalar loops, often tens of times slower
    /// than a library or generated kernel), grouped as "op dtype ×count (at line)": a float64
    /// matmul or convolution, integer arithmetic. Data movement with a library kernel of any type
    /// (slices, pads, concatenations, transposes), scans and scalars are not counted. GRAPHNET_DEBUG=1 prints it.
    /// </summary>
    public IReadOnlyList<string> ReferenceFallbacks => Fallbacks(Kernels);

    internal static IReadOnlyList<string> Fallbacks(IEnumerable<Kernel> kernels) =>
        kernels.Where(k => k.Kind == NodeClass.Reference && k.Anchor!.Op is not (SliceOp or PadOp or ConcatOp or TransposeOp or ScanOp)
                && (k.Domain.IsSymbolic || k.Domain.StaticSize > 1)) // a scalar (an optimizer's step count) costs nothing
            .GroupBy(k => (k.Anchor!.Op.Name, DType: k.Anchor.Inputs.Count > 0 ? k.Anchor.Inputs[0].DType : k.Anchor.OutputTypes[0].DType))
            .Select(g => $"{g.Key.Name} {g.Key.DType.ShortName()} x{g.Count()} (at {g.First().Anchor!.Source})")
            .ToList();
}

/// <summary>Options that change the generated code (part of the cache key).</summary>
public sealed record CompileOptions
{
    /// <summary>Verify the graph after every pass, and fusion, kernels and the memory plan after theirs (always on in tests).</summary>
    public bool Verify { get; init; } = true;
    /// <summary>Write a dump folder per compilation here (see CompileDump).</summary>
    public string? DumpDirectory { get; init; }
    /// <summary>The backend to compile for.</summary>
    public Backend Target { get; init; } = Backend.CSharp;
    /// <summary>
    /// Fuse pointwise chains, epilogues and reductions' producers into kernels (the default); off,
    /// every value is a kernel's output, stored and checkable (SessionOptions.CheckNumerics).
    /// </summary>
    public bool Fuse { get; init; } = true;
    /// <summary>The vector width of generated C# loops: the machine's (512, 256), or 0 for scalar loops.</summary>
    public int VectorWidth { get; init; } = Runtime.Kernels.Simd.Width;
}

/// <summary>
/// One compilation: the graph, the fetches and feeds, and what each stage of <see cref="Pipeline"/>
/// has made of them so far (the unit, fusion plan, kernels, memory plan, buffer table, code,
/// assembly image, executable). A stage reads what it needs and adds its result.
/// </summary>
public sealed class Compilation
{
    /// <summary>The compiler's identity in cache keys: changes whenever GraphNet's code does.</summary>
    public static readonly string Version = string.Join("-", new[] { typeof(Graph), typeof(Runtime.Interpreter), typeof(Compilation) }
        .Select(t => t.Assembly.ManifestModule.ModuleVersionId.ToString("N")[..8]));

    internal Compilation(Graph graph, IReadOnlyList<Tensor> fetches, IReadOnlyList<Tensor> feeds, CompileOptions options, CompileCache? cache,
        CompilingSession session)
    {
        Graph = graph; UserFetches = fetches; UserFeeds = feeds; Options = options; Cache = cache; Session = session;
        Unit = new Unit(graph, fetches, feeds);
        Report = new CompileReport { OpCount = graph.Nodes.Count };
    }

    /// <summary>Compiles one run signature of a graph for <c>options.Target</c> through every stage of <see cref="Pipeline"/>.</summary>
    internal static CompiledExecutable Compile(Graph graph, IReadOnlyList<Tensor> fetches, IReadOnlyList<Tensor> feeds, CompileOptions options,
        CompileCache? cache, CompilingSession session) => Pipeline.Run(new Compilation(graph, fetches, feeds, options, cache, session));

    /// <summary>
    /// Compiles outside a session, for backends that need no per-session state (the C# backend);
    /// benchmarks use it to time the compiler alone.
    /// </summary>
    public static CompiledExecutable Compile(Graph graph, IReadOnlyList<Tensor> fetches, IReadOnlyList<Tensor> feeds, CompileOptions options,
        CompileCache? cache)
    {
        if (options.Target is not Backends.CSharp.CSharpBackend csharp)
            throw new ArgumentException($"the {options.Target} backend compiles through a Session (it needs the session's device)", nameof(options));
        return Compile(graph, fetches, feeds, options, cache, new CompilingSession(csharp));
    }

    public Graph Graph { get; }
    public IReadOnlyList<Tensor> UserFetches { get; }
    public IReadOnlyList<Tensor> UserFeeds { get; }
    public CompileOptions Options { get; }
    public CompileCache? Cache { get; }
    internal CompilingSession Session { get; }
    public CompilingBackend Backend => Session.Backend;
    public CompileReport Report { get; }

    /// <summary>The compile-cache key of the graph before the passes (set by <see cref="Restore"/> when there is a cache).</summary>
    internal InputKey? InputKey { get; set; }

    /// <summary>The unit the graph passes work on; after them, the optimized unit.</summary>
    public Unit Unit { get; internal set; }

    public FusionPlan Fusion { get => fusion ?? throw Missing("fusion"); internal set => fusion = value; }
    public List<Kernel> Kernels { get => kernels ?? throw Missing("lowering"); internal set => kernels = value; }
    public MemoryPlan Memory { get => memory ?? throw Missing("memory planning"); internal set => memory = value; }
    public BufferTable Buffers { get => buffers ?? throw Missing("memory planning"); internal set => buffers = value; }
    /// <summary>Each scan kernel's compiled body, by the scan's node.</summary>
    public IReadOnlyDictionary<Node, CompiledExecutable> Bodies { get => bodies ?? throw Missing("scan bodies"); internal set => bodies = value; }
    /// <summary>The compiled assembly's bytes (built, or read from the disk cache).</summary>
    public byte[] Image { get => image ?? throw Missing("building"); internal set => image = value; }
    public CompiledExecutable Executable { get => executable ?? throw Missing("loading"); internal set => executable = value; }
    internal bool HasImage => image is not null;
    /// <summary>The collectible context the assembly was loaded into.</summary>
    internal System.Runtime.Loader.AssemblyLoadContext? LoadContext { get; set; }

    private FusionPlan? fusion;
    private List<Kernel>? kernels;
    private MemoryPlan? memory;
    private BufferTable? buffers;
    private IReadOnlyDictionary<Node, CompiledExecutable>? bodies;
    private byte[]? image;
    private CompiledExecutable? executable;

    /// <summary>The generated class's name, from the cache key (set by the code generation stage).</summary>
    public string ClassName => "Step_" + Report.CacheKey[..12];

    private static InvalidOperationException Missing(string stage) => new($"the compiler's {stage} stage has not run yet");
}
