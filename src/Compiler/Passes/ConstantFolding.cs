namespace GraphNet.Compiler.Passes;

/// <summary>Evaluates nodes whose inputs are all constants (up to a size bound) and replaces them by constants.</summary>
public sealed class ConstantFolding : Pass
{
    /// <summary>Larger results stay computed at run time, so graphs do not balloon.</summary>
    public const int MaxElements = 1 << 16;

    public override string Name => "constant_folding";

    public override Unit Run(Unit unit) => Rewriter.Run(unit, (r, node, inputs) =>
    {
        if (node.Op.IsStateful || node.Op is ConstantOp || node.Inputs.Count == 0) return null;
        if (!inputs.All(i => i.Node.Op is ConstantOp)) return null;
        if (node.OutputTypes.Any(t => t.Shape.IsSymbolic || t.Shape.StaticSize > MaxElements)) return null;
        var values = node.Op.Evaluate(new EvalContext(), inputs.Select(i => ((ConstantOp)i.Node.Op).Value).ToArray());
        return values.Select(v => r.Add(new ConstantOp(v), [], node)[0]).ToArray();
    });
}
