using GraphNet.Compiler.Passes;
using static GraphNet.Compiler.Tests.Passes.PassTestKit;

namespace GraphNet.Compiler.Tests.Passes;

public class PruneToFetchesTests
{
    [Fact]
    public void KeepsOnlyWhatTheFetchesNeedAndStopsAtFeeds()
    {
        var g = new Graph();
        var x = g.Placeholder([-1, 2], "x");
        var unused = F.Exp(x);
        var y = F.Relu(x);
        var z = F.Sum(y);
        var (before, after) = Run(new PruneToFetches(), g, [z], [x]);
        Assert.Equal(Norm("""
            %0 = placeholder() : f32[N,2]  # x
            %1 = exp(%0) : f32[N,2]  # exp
            %2 = relu(%0) : f32[N,2]  # relu
            %3 = reduce_sum(%2) {axes=[], keepdims=false} : f32[]  # reduce_sum
            fetch %3
            """), Norm(before));
        Assert.Equal(Norm("""
            %0 = placeholder() : f32[N,2]  # x
            %1 = relu(%0) : f32[N,2]  # relu
            %2 = reduce_sum(%1) {axes=[], keepdims=false} : f32[]  # reduce_sum
            fetch %2
            """), Norm(after));
        Assert.NotNull(unused);
    }

    [Fact]
    public void FeedingAnIntermediatePlaceholderCutsItsProducers()
    {
        var g = new Graph();
        var a = g.Placeholder([3], "a");
        var b = F.Exp(a);
        var c = g.Placeholder([3], "c");
        var (_, after) = Run(new PruneToFetches(), g, [c * 2.0], [c]);
        Assert.DoesNotContain("exp", after);
        Assert.NotNull(b);
    }
}
