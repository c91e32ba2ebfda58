namespace GraphNet.Compiler.Passes;

/// <summary>
/// A scan's gradient adds a twin of the scan that also stacks the residuals its backward scan
/// reads (<see cref="ScanOp.Extends"/>). Where both are needed, this pass runs the twin alone:
/// the first scan's outputs are the twin's first outputs.
/// </summary>
public sealed class ScanTwins : Pass
{
    public override string Name => "scan_twins";

    public override Unit Run(Unit unit)
    {
        var twinOf = new Dictionary<Node, Node>();
        var scans = unit.Graph.Nodes.Where(n => n.Op is ScanOp).ToList();
        foreach (var twin in scans)
            if (twin.Op is ScanOp { Extends: { } first })
                foreach (var n in scans)
                    if (n != twin && n.Op.Equals(first) && n.Inputs.SequenceEqual(twin.Inputs)) twinOf.TryAdd(n, twin);
        if (twinOf.Count == 0) return unit;
        var made = new Dictionary<Node, Tensor[]>();
        return Rewriter.Run(unit, (r, node, x) =>
        {
            if (made.TryGetValue(node, out var outs)) return outs;
            if (!twinOf.TryGetValue(node, out var twin)) return null;
            outs = made[twin] = r.Add(twin.Op, x, twin);
            return outs[..node.Outputs.Count];
        });
    }
}
