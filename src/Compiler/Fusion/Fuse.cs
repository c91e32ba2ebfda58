namespace GraphNet.Compiler;

/// <summary>The fusion stage: groups nodes into future kernels and records every decision with its reason (see <see cref="Fusion"/>).</summary>
public sealed class Fuse : Stage
{
    public override string Name => "fuse";

    public override void Run(Compilation c) => c.Report.Fusion = c.Fusion = Fusion.Plan(c.Unit, c.Options.Fuse);

    public override void Verify(Compilation c) => Verifier.VerifyFusion(c.Unit, c.Fusion, Name);

    public override IEnumerable<(string File, Func<string> Text)> Dump(Compilation c)
    {
        var plan = c.Fusion;
        return [("txt", plan.Report), ("json", () => CompileDump.FusionJson(plan))];
    }
}
