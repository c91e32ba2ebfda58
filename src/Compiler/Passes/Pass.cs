namespace GraphNet.Compiler.Passes;

/// <summary>A named graph-to-graph transformation.</summary>
public abstract class Pass
{
    public abstract string Name { get; }
    public abstract Unit Run(Unit unit);

    /// <summary>Nodes the fetches depend on, not looking past fed placeholders.</summary>
    public static HashSet<Node> Needed(Unit unit)
    {
        var fed = new HashSet<Node>(unit.Feeds.Select(f => f.Node));
        var needed = new HashSet<Node>();
        var stack = new Stack<Node>(unit.Fetches.Select(f => f.Node));
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            if (!needed.Add(n) || fed.Contains(n)) continue;
            foreach (var i in n.Inputs) stack.Push(i.Node);
        }
        foreach (var f in unit.Feeds) needed.Add(f.Node);
        return needed;
    }
}

/// <summary>Keeps only what the fetches need.</summary>
public sealed class PruneToFetches : Pass
{
    public override string Name => "prune";
    public override Unit Run(Unit unit) => Rewriter.Run(unit, (_, _, _) => null, Needed(unit));
}

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
