namespace GraphNet.Compiler.Passes;

/// <summary>Removes nodes whose values nobody uses (after other passes bypassed them).</summary>
public sealed class DeadCodeElimination : Pass
{
    public override string Name => "dce";
    public override Unit Run(Unit unit)
    {
        var needed = Needed(unit);
        return needed.Count == unit.Graph.Nodes.Count ? unit : Rewriter.Run(unit, (_, _, _) => null, needed);
    }
}
