using GraphNet.Compiler.Passes;
using static GraphNet.Compiler.Tests.Passes.PassTestKit;

namespace GraphNet.Compiler.Tests.Passes;

public class DeadCodeEliminationTests
{
    [Fact]
    public void DropsNodesThatBecameUnused()
    {
        // After algebraic simplification bypasses x*1, the constant 1 and the mul are dead.
        var g = new Graph();
        var x = g.Placeholder([2], "x");
        var unit = new AlgebraicSimplification().Run(new Unit(g, [F.Relu(x * 1.0)], [x]));
        var after = new DeadCodeElimination().Run(unit);
        Verifier.Verify(after, "dce");
        Assert.Equal(Norm("""
            %0 = placeholder() : f32[2]  # x
            %1 = relu(%0) : f32[2]  # relu
            fetch %1
            """), Norm(after.ToText()));
    }
}
