namespace GraphNet.Compiler;

/// <summary>Checks a unit after a pass: topological order, no dangling inputs, types that re-infer.</summary>
public static class Verifier
{
    public static void Verify(Unit unit, string afterPass)
    {
        var g = unit.Graph;
        for (int i = 0; i < g.Nodes.Count; i++)
        {
            var n = g.Nodes[i];
            string Where() => $"after pass '{afterPass}': node %{n.Id} {n.Op.Name} '{n.Name}'";
            if (i > 0 && n.Id <= g.Nodes[i - 1].Id) throw new InvalidOperationException($"{Where()} has id {n.Id} after %{g.Nodes[i - 1].Id} (ids must grow)");
            foreach (var input in n.Inputs)
            {
                if (input.Graph != g) throw new InvalidOperationException($"{Where()} reads '{input.Name}' from another graph (dangling input)");
                if (input.Node.Id >= n.Id) throw new InvalidOperationException($"{Where()} reads %{input.Node.Id}, which comes later (not topological)");
            }
            var types = n.Op.InferTypes(n.Inputs.Select(t => t.Type).ToArray());
            if (!types.SequenceEqual(n.OutputTypes))
                throw new InvalidOperationException($"{Where()} has types {string.Join(",", n.OutputTypes)} but its inputs infer {string.Join(",", types.Select(t => t.ToString()))}");
        }
        foreach (var t in unit.Fetches.Concat(unit.Feeds))
            if (t.Graph != g) throw new InvalidOperationException($"after pass '{afterPass}': fetch or feed '{t.Name}' is not in the graph");
    }
}
