namespace GraphNet.Compiler.Passes;

/// <summary>
/// Drops the stacked step outputs of a scan that nothing reads (an LSTM whose last state alone
/// is used still has its sequence of states as an output): each one costs a copy every step.
/// </summary>
public sealed class ScanOutputs : Pass
{
    public override string Name => "scan_outputs";

    public override Unit Run(Unit unit)
    {
        if (!unit.Graph.Nodes.Any(n => n.Op is ScanOp)) return unit;
        var consumers = Fusion.Consumers(unit.Graph);
        var fetched = unit.Fetches.ToHashSet();
        bool Unread(Tensor t) => consumers[t].Count == 0 && !fetched.Contains(t);
        var trimmed = unit.Graph.Nodes.Where(n => n.Op is ScanOp s && n.Outputs.Skip(s.CarryCount).Any(Unread)).ToHashSet();
        if (trimmed.Count == 0) return unit;
        return Rewriter.Run(unit, (r, node, x) =>
        {
            if (!trimmed.Contains(node)) return null;
            var op = (ScanOp)node.Op;
            var b = op.Body;
            var keep = Enumerable.Range(0, b.Ys.Count).Where(i => !Unread(node.Outputs[op.CarryCount + i])).ToArray();
            var body = new ScanBody(b.Graph, [.. b.Carries], [.. b.Xs], [.. b.Captures], [.. b.CarryOut], [.. keep.Select(i => b.Ys[i])]);
            var outs = r.Add(op with { Body = body }, x, node);
            // An unread output has no stand-in: nothing asks for it.
            var mapped = new Tensor[node.Outputs.Count];
            for (int i = 0; i < op.CarryCount; i++) mapped[i] = outs[i];
            for (int i = 0; i < b.Ys.Count; i++)
            {
                int k = Array.IndexOf(keep, i);
                mapped[op.CarryCount + i] = k >= 0 ? outs[op.CarryCount + k] : null!;
            }
            return mapped;
        });
    }
}
