namespace GraphNet.Compiler.Passes;

/// <summary>
/// Checks the user's graph before anything changes it: topological order, inputs from the same
/// graph, and types and shapes that re-infer from the inputs. Always on: a graph loaded from a
/// file, or built by hand, fails here with the node's name rather than later in a kernel.
/// </summary>
public sealed class CheckTypes : Pass
{
    public override string Name => "check";

    public override Unit Run(Unit unit)
    {
        Verifier.Verify(unit, Name);
        return unit;
    }

    /// <summary>Run already checked.</summary>
    public override void Verify(Compilation c) { }
}
