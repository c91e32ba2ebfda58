namespace GraphNet.Compiler.Passes;

/// <summary>A graph pass: a stage that turns the unit into a new one (the graph is never changed in place).</summary>
public abstract class Pass : Stage
{
    public abstract Unit Run(Unit unit);

    public sealed override void Run(Compilation c) => c.Unit = Run(c.Unit);

    /// <summary>Topological order, inputs in the graph, types that re-infer.</summary>
    public override void Verify(Compilation c) => Verifier.Verify(c.Unit, Name);

    public override IEnumerable<(string File, Func<string> Text)> Dump(Compilation c)
    {
        var unit = c.Unit;
        return [("txt", unit.ToText), ("dot", () => GraphDot.Format(unit.Graph, title: $"after {Name}"))];
    }

    /// <summary>Nodes the fetches depend on, not looking past fed placeholders.</summary>
    public static HashSet<Node> Needed(Unit unit)
    {
        var flags = NeededFlags(unit);
        return unit.Graph.Nodes.Where(n => flags[n.Id]).ToHashSet();
    }

    /// <summary>
    /// <see cref="Needed"/> as one flag per node, by id (a node's id is its position in the graph):
    /// the compile cache's key walks tens of thousands of nodes with it before anything else runs.
    /// </summary>
    public static bool[] NeededFlags(Unit unit)
    {
        var needed = new bool[unit.Graph.Nodes.Count];
        var fed = new bool[needed.Length];
        foreach (var f in unit.Feeds) fed[f.Node.Id] = true;
        var stack = new Stack<Node>(unit.Fetches.Select(f => f.Node));
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            if (needed[n.Id]) continue;
            needed[n.Id] = true;
            if (!fed[n.Id]) foreach (var i in n.Inputs) stack.Push(i.Node);
        }
        foreach (var f in unit.Feeds) needed[f.Node.Id] = true;
        return needed;
    }
}

