namespace GraphNet.Compiler.Passes;

/// <summary>Keeps only what the fetches need.</summary>
public sealed class PruneToFetches : Pass
{
    public override string Name => "prune";
    public override Unit Run(Unit unit) => Rewriter.Run(unit, (_, _, _) => null, Needed(unit));
}
