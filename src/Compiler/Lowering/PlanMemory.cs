namespace GraphNet.Compiler;

/// <summary>The memory-planning stage: which buffer each value lives in (see <see cref="MemoryPlan"/>), and the buffer table built from it.</summary>
public sealed class PlanMemory : Stage
{
    public override string Name => "plan_memory";

    public override void Run(Compilation c)
    {
        c.Report.Memory = c.Memory = MemoryPlan.Build(c.Unit, c.Kernels, c.Fusion.SliceViews, c.Fusion.ConcatViews);
        c.Buffers = new BufferTable(c.Memory);
    }

    public override void Verify(Compilation c) => Verifier.VerifyMemory(c.Unit, c.Kernels, c.Memory, c.Buffers, Name);

    public override IEnumerable<(string File, Func<string> Text)> Dump(Compilation c)
    {
        var memory = c.Memory;
        return [("txt", () => memory.Report(32)), ("json", () => CompileDump.MemoryJson(memory))];
    }
}
