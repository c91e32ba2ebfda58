using GraphNet.Compiler.Passes;
using static GraphNet.Compiler.Tests.Passes.PassTestKit;

namespace GraphNet.Compiler.Tests.Passes;

public class ConstantFoldingTests
{
    [Fact]
    public void FoldsConstantSubgraphsAndLeavesTheRest()
    {
        var g = new Graph();
        var x = g.Placeholder([2], "x");
        var c = F.Exp(g.Scalar(0.0)) * 3.0;   // exp(0)·3 = 3, all constant
        var y = x * c;
        var (before, after) = Run(new ConstantFolding(), g, [y], [x]);
        Assert.Equal(Norm("""
            %0 = placeholder() : f32[2]  # x
            %1 = constant() {value=0} : f32[]  # scalar
            %2 = exp(%1) : f32[]  # exp
            %3 = constant() {value=3} : f32[]  # scalar_1
            %4 = mul(%2, %3) : f32[]  # mul
            %5 = mul(%0, %4) : f32[2]  # mul_1
            fetch %5
            """), Norm(before));
        Assert.Equal(Norm("""
            %0 = placeholder() : f32[2]  # x
            %1 = constant() {value=0} : f32[]  # scalar
            %2 = constant() {value=1} : f32[]  # exp
            %3 = constant() {value=3} : f32[]  # scalar_1
            %4 = constant() {value=3} : f32[]  # mul
            %5 = mul(%0, %4) : f32[2]  # mul_1
            fetch %5
            """), Norm(after));
    }

    [Fact]
    public void DoesNotFoldVariablesPlaceholdersOrLargeResults()
    {
        var g = new Graph();
        var v = g.Variable("v", [2], Initializer.Ones);
        var big = F.BroadcastLike(g.Scalar(1.0), g.Constant(NDArray.Zeros(DType.Float32, 300, 300)));
        var (_, after) = Run(new ConstantFolding(), g, [F.Exp(v), big]);
        Assert.Contains("exp(%", after);
        Assert.Contains("broadcast_like", after);
    }
}
