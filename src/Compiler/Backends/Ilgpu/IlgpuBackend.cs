using GraphNet.Compiler.Ilgpu;
using GraphNet.Runtime.Devices;

namespace GraphNet.Compiler.Backends.Ilgpu;

/// <summary>
/// The ILGPU backend: the same fused, memory-planned kernels as grid-strided ILGPU kernels
/// (rendered as C#, compiled with Roslyn, loaded by ILGPU onto the session's accelerator), with
/// buffers and variables kept on the device between steps.
/// </summary>
internal sealed class IlgpuBackend : CompilingBackend
{
    public override string Name => "ilgpu";

    internal override BackendSession Open(Session session)
    {
        Backends.CSharp.RoslynCompiler.WarmUpInBackground();
        return new IlgpuSession(this, session);
    }

    internal override GeneratedCode Emit(Compilation c) => DeviceEmitter.Emit(c.Kernels, c.Memory, c.Buffers, c.ClassName, Metadata(c));

    internal override CompiledExecutable Load(Compilation c, object generated) =>
        new IlgpuExecutable(c, (DeviceStep)generated, ((IlgpuSession)c.Session).Device);
}

/// <summary>A session's accelerator and its device-resident variables (the store reads values back from them on demand).</summary>
internal sealed class IlgpuSession : CompilingSession
{
    public IlgpuSession(IlgpuBackend backend, Session session) : base(backend)
    {
        Device = new DeviceVariables(Devices.Get(session.Options.Accelerator), session.Variables);
        session.Variables.Device = Device;
    }

    public DeviceVariables Device { get; }

    public override void Dispose() => Device.Dispose();
}
