using GraphNet.Compiler.Passes;
using static GraphNet.Compiler.Tests.Passes.PassTestKit;

namespace GraphNet.Compiler.Tests.Passes;

public class CommonSubexpressionsTests
{
    [Fact]
    public void MergesIdenticalNodesButNotVariablesOrDifferentAttributes()
    {
        var g = new Graph();
        var x = g.Placeholder([2, 3], "x");
        var a = F.Exp(x) + F.Exp(x);
        var s0 = F.Sum(x, [0]) * F.Sum(x, [1], keepDims: true).Reshape(2, 1);
        var (_, after) = Run(new CommonSubexpressions(), g, [a, s0], [x]);
        Assert.Equal(Norm("""
            %0 = placeholder() : f32[2,3]  # x
            %1 = exp(%0) : f32[2,3]  # exp
            %2 = add(%1, %1) : f32[2,3]  # add
            %3 = reduce_sum(%0) {axes=[0], keepdims=false} : f32[3]  # reduce_sum
            %4 = reduce_sum(%0) {axes=[1], keepdims=true} : f32[2,1]  # reduce_sum_1
            %5 = reshape(%4) {shape=[2,1]} : f32[2,1]  # reshape
            %6 = mul(%3, %5) : f32[2,3]  # mul
            fetch %2, %6
            """), Norm(after));
    }
}
