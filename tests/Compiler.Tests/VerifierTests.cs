namespace GraphNet.Compiler.Tests;

public class VerifierTests
{
    [Fact]
    public void AcceptsWellFormedUnitsAndRejectsForeignFetches()
    {
        var g = new Graph();
        var x = g.Placeholder([2], "x");
        var y = F.Exp(x);
        Verifier.Verify(new Unit(g, [y], [x]), "test");
        var other = new Graph().Placeholder([2], "o");
        var e = Assert.Throws<InvalidOperationException>(() => Verifier.Verify(new Unit(g, [other], []), "test"));
        Assert.Contains("is not in the graph", e.Message);
    }

    [Fact]
    public void ThePipelineVerifiesTheBooksCnnAfterEveryPass()
    {
        var m = Bench.BenchModel.Cnn();
        var unit = Pipeline.RunGraphPasses(new Unit(m.Graph, [m.Loss, m.TrainStep], [m.Input, m.Labels]), verify: true);
        Assert.True(unit.Graph.Nodes.Count <= m.Graph.Nodes.Count);
    }
}
