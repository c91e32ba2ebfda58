using GraphNet.Runtime;

namespace GraphNet.Compiler;

/// <summary>
/// One engine that runs a session's graphs. Session and the pipeline know backends only
/// through this class: a backend opens per-session state (<see cref="Open"/>) that prepares an
/// executable for each run signature. The interpreter is the reference backend; the compiling
/// backends (<see cref="CompilingBackend"/>) go through <see cref="Pipeline"/>.
/// </summary>
public abstract class Backend
{
    /// <summary>Compiled: fused kernels generated as C#, compiled with Roslyn (the default).</summary>
    public static Backend CSharp { get; } = new Backends.CSharp.CSharpBackend();

    /// <summary>Node by node: library kernels where they exist, reference evaluation elsewhere.</summary>
    public static Backend Interpreter { get; } = new Backends.Interpreter.InterpreterBackend();

    /// <summary>Compiled: the same fused kernels generated as ILGPU kernels, run on an accelerator (SessionOptions.Accelerator).</summary>
    public static Backend Ilgpu { get; } = new Backends.Ilgpu.IlgpuBackend();

    /// <summary>Every backend, for command lines and tests.</summary>
    public static IReadOnlyList<Backend> All { get; } = [CSharp, Interpreter, Ilgpu];

    /// <summary>The backend of that name ("csharp" or "compiled", "interpreter", "ilgpu").</summary>
    public static Backend Named(string name) => name == "compiled" ? CSharp
        : All.FirstOrDefault(b => b.Name == name)
          ?? throw new ArgumentException($"unknown backend '{name}': use {string.Join(", ", All.Select(b => b.Name))}");

    public abstract string Name { get; }

    /// <summary>The per-session state: a device, a warm compiler.</summary>
    internal abstract BackendSession Open(Session session);

    public override string ToString() => Name;
}

/// <summary>A backend's state for one session: it prepares the executable of each run signature and frees what it holds.</summary>
internal abstract class BackendSession : IDisposable
{
    public abstract Executable Prepare(Session session, RunPlan plan);
    public virtual void Dispose() { }
}

/// <summary>
/// A backend that compiles: the kernel passes it adds to the pipeline, its code emitter, how it
/// builds the code into an assembly, and how it loads that into an executable.
/// </summary>
public abstract class CompilingBackend : Backend
{
    /// <summary>Stages the backend runs on the kernels between lowering and memory planning.</summary>
    public virtual IReadOnlyList<Stage> KernelPasses => [];

    /// <summary>The generated source, with its structure (which file and member is which kernel) as data.</summary>
    internal abstract GeneratedCode Emit(Compilation c);

    /// <summary>Compiles generated code into an assembly image.</summary>
    internal virtual byte[] Build(GeneratedCode code) => Backends.CSharp.RoslynCompiler.Compile(code);

    /// <summary>Turns the loaded generated class into an executable.</summary>
    internal abstract CompiledExecutable Load(Compilation c, object generated);

    /// <summary>What the generated assembly carries for the disk cache to check: its key and the compiler's version.</summary>
    private protected static IReadOnlyDictionary<string, string> Metadata(Compilation c) =>
        new Dictionary<string, string> { [CompileCache.KeyAttribute] = c.Report.CacheKey, [CompileCache.VersionAttribute] = Compilation.Version };
}

/// <summary>The session state of a compiling backend: each run signature is compiled once (or loaded from the disk cache).</summary>
internal class CompilingSession(CompilingBackend backend) : BackendSession
{
    public CompilingBackend Backend { get; } = backend;

    public override Executable Prepare(Session session, RunPlan plan)
    {
        var o = session.Options;
        var cache = o.UseCompileCache ? (o.CacheDirectory is { } d ? new CompileCache(d) : CompileCache.Default()) : null;
        // CheckNumerics promises the first value that is not finite: a fused loop would keep it in a register.
        var options = new CompileOptions { Verify = o.VerifyPasses, DumpDirectory = o.DumpDirectory, Target = Backend, Fuse = !o.CheckNumerics };
        return Compilation.Compile(session.Graph, plan.Fetches, plan.FedTensors, options, cache, this);
    }
}
