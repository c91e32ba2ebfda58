using GraphNet.Compiler.Passes;

namespace GraphNet.Compiler.Tests.Passes;

/// <summary>Runs one pass on a unit and returns the text before and after; the verifier checks the result.</summary>
public static class PassTestKit
{
    public static (string Before, string After) Run(Pass pass, Graph g, Tensor[] fetches, Tensor[]? feeds = null)
    {
        var unit = new Unit(g, fetches, feeds ?? []);
        var after = pass.Run(unit);
        Verifier.Verify(after, pass.Name);
        return (unit.ToText(), after.ToText());
    }

    public static string Norm(string s) => s.ReplaceLineEndings().Trim();
}
