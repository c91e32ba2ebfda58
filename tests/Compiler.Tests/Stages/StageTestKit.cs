namespace GraphNet.Compiler.Tests.Stages;

/// <summary>Runs the pipeline up to and including one stage (verifying after each), for the stage's own tests.</summary>
public static class StageTestKit
{
    public static Compilation RunThrough(string stage, Graph g, Tensor[] fetches, Tensor[]? feeds = null, CompileCache? cache = null)
    {
        var backend = (CompilingBackend)Backend.CSharp;
        var c = new Compilation(g, fetches, feeds ?? [], new CompileOptions { Target = backend }, cache, new CompilingSession(backend));
        foreach (var s in Pipeline.Stages(backend))
        {
            s.Run(c);
            s.Verify(c);
            if (s.Name == stage) return c;
        }
        throw new ArgumentException($"no stage named '{stage}'");
    }

    public static Stage Named(string stage) => Pipeline.Stages((CompilingBackend)Backend.CSharp).Single(s => s.Name == stage);

    public static string Norm(string s) => s.ReplaceLineEndings().Trim();

    /// <summary>x [N,4] · W [3,4]ᵀ + b, relu, summed per row: a library kernel with an epilogue and a reduction.</summary>
    public static (Graph Graph, Tensor X, Tensor Y) Dense()
    {
        var g = new Graph(seed: 1);
        var x = g.Placeholder([-1, 4], "x");
        var w = g.Variable("w", [3, 4], Initializer.Constant(0.5));
        var b = g.Variable("b", [3], Initializer.Constant(0.1));
        var y = F.Sum(F.Relu(F.MatMul(x, w, transB: true) + b), [1]);
        return (g, x, y);
    }
}
