using GraphNet.Compiler;
using GraphNet.Nn;

namespace GraphNet.Compiler.Tests;

public class SessionTests
{
    [Fact]
    public void RunsWithFeedsAndKeepsVariablesAcrossRuns()
    {
        var g = new Graph();
        var x = g.Placeholder([-1, 2], "x");
        var w = g.Variable("w", [2], Initializer.Constant(3));
        var y = F.Sum(x * w, [1]);
        var bump = g.AddNode(new AssignOp(), [w, w * 2.0]).Outputs[0];
        using var s = new Session(g);
        var feed = new Dictionary<Tensor, NDArray> { [x] = NDArray.From(new float[] { 1, 2, 3, 4 }, 2, 2) };
        Assert.Equal(new[] { 9f, 21f }, s.Run(y, feed).As<float>());
        s.Run(bump);
        Assert.Equal(new[] { 18f, 42f }, s.Run(y, feed).As<float>());
        // A different batch size runs the same graph.
        Assert.Equal(new[] { 6f }, s.Run(y, new Dictionary<Tensor, NDArray> { [x] = NDArray.From(new float[] { 1, 0 }, 1, 2) }).As<float>());
    }

    [Fact]
    public void ClearErrorsForBadUse()
    {
        var g = new Graph();
        var x = g.Placeholder([-1, 2], "x");
        var y = F.Sum(x);
        using var s = new Session(g);

        var missing = Assert.Throws<GraphException>(() => s.Run(y));
        Assert.Contains("placeholder 'x'", missing.Message);

        var other = new Graph().Placeholder([2], "elsewhere");
        var foreign = Assert.Throws<GraphException>(() => s.Run(other));
        Assert.Contains("belongs to another Graph", foreign.Message);

        var late = g.Variable("late", [2], Initializer.Zeros);
        var uninit = Assert.Throws<GraphException>(() => s.Run(late));
        Assert.Contains("variable 'late'", uninit.Message);
        Assert.Contains("InitializeVariables", uninit.Message);
        s.InitializeVariables();
        Assert.Equal(new[] { 0f, 0f }, s.Run(late).As<float>());

        var notPlaceholder = Assert.Throws<GraphException>(() => s.Run(y, new Dictionary<Tensor, NDArray> { [late] = NDArray.Zeros(DType.Float32, 2) }));
        Assert.Contains("only placeholders can be fed", notPlaceholder.Message);

        var badSet = Assert.Throws<GraphException>(() => s.SetVariable("late", NDArray.Zeros(DType.Float32, 3)));
        Assert.Contains("f32[2]", badSet.Message);
    }

    [Fact]
    public void SameSeedGivesSameInitialWeightsAndDifferentSeedsDiffer()
    {
        static float[] Weights(int seed)
        {
            var g = new Graph(seed);
            var fc = new Linear(g, "fc", 10, 5);
            using var s = new Session(g);
            return s.GetVariable("fc.weight").As<float>();
        }
        Assert.Equal(Weights(1), Weights(1));
        Assert.NotEqual(Weights(1), Weights(2));
    }
}
