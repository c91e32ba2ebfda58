namespace GraphNet.Compiler.Backends.CSharp;

/// <summary>
/// The C# backend: fused kernels as one generated C# class (loops over the vector handler of the
/// machine's width, calls of the runtime's library kernels), compiled in process with Roslyn,
/// run on the CPU.
/// </summary>
internal sealed class CSharpBackend : CompilingBackend
{
    public override string Name => "csharp";

    /// <summary>Winograd convolutions apply their bias and ReLU as they store (the ILGPU backend's convolutions have no such epilogue).</summary>
    public override IReadOnlyList<Stage> KernelPasses { get; } = [new LibraryEpilogues()];

    internal override BackendSession Open(Session session)
    {
        RoslynCompiler.WarmUpInBackground();
        return new CompilingSession(this);
    }

    internal override GeneratedCode Emit(Compilation c) =>
        CSharpEmitter.Emit(c.Kernels, c.Memory, c.Buffers, c.ClassName, Metadata(c), c.Options.VectorWidth);

    internal override CompiledExecutable Load(Compilation c, object generated) => new CpuExecutable(c, (CompiledStep)generated);
}
