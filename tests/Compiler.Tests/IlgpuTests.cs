using GraphNet.Bench;

namespace GraphNet.Compiler.Tests;

/// <summary>The ILGPU backend on ILGPU's CPU accelerator (what CI has): every op, random graphs, training, devices.</summary>
public class IlgpuTests
{
    [Theory, MemberData(nameof(CompiledOpTests.Names), MemberType = typeof(CompiledOpTests))]
    public void EveryOpForwardAndBackwardMatchesTheInterpreter(string name) => CompiledOpTests.CheckCase(name, BackendParity.IlgpuCpu);
}
