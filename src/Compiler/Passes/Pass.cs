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

