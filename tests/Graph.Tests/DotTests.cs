using GraphNet.Nn;

namespace GraphNet.Tests;

/// <summary>DOT output, checked by running Graphviz (CI installs it). One class: the tests share the dot program setting.</summary>
public class DotTests
{
    private static Graph SmallCnn()
    {
        var g = new Graph();
        var x = g.Placeholder([-1, 1, 8, 8], "images");
        var conv = new Conv2d(g, "conv1", 1, 2, 3);
        var fc = new Linear(g, "fc", 2 * 3 * 3, 4);
        var loss = F.Sum(fc.Forward(F.Flatten(F.MaxPool2d(F.Relu(conv.Forward(x)), 2))));
        F.Gradients([loss], g.TrainableVariables.ToList());
        return g;
    }

    [Fact]
    public void DotShowsForwardAndBackwardScopesShapesAndRendersWithGraphviz()
    {
        var g = SmallCnn();
        var dot = g.ToDot("small cnn");
        Assert.Contains("subgraph cluster_", dot);
        Assert.Contains("label=\"conv1\"", dot);
        Assert.Contains(GraphDot.BackwardColor, dot);
        Assert.Contains(GraphDot.ForwardColor, dot);
        Assert.Contains("shape=cylinder", dot);   // variables
        Assert.Contains("shape=invhouse", dot);   // placeholders
        Assert.Contains("label=\"f32[N,2,6,6]\"", dot); // shapes on edges
        var dir = Directory.CreateTempSubdirectory("graphnet-dot-").FullName;
        try
        {
            g.SaveSvg(Path.Combine(dir, "g.svg"));
            g.SavePng(Path.Combine(dir, "g.png"));
            Assert.StartsWith("<?xml", File.ReadAllText(Path.Combine(dir, "g.svg")));
            Assert.Contains("<svg", File.ReadAllText(Path.Combine(dir, "g.svg")));
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(Path.Combine(dir, "g.png"))[..4]);

            // Without Graphviz the error says how to install it, and an existing file is left alone.
            File.WriteAllText(Path.Combine(dir, "keep.svg"), "old");
            GraphDot.DotProgram = "graphviz-dot-that-does-not-exist";
            var e = Assert.Throws<GraphException>(() => g.SaveSvg(Path.Combine(dir, "keep.svg")));
            Assert.Contains("apt-get install graphviz", e.Message);
            Assert.Equal("old", File.ReadAllText(Path.Combine(dir, "keep.svg")));
        }
        finally
        {
            GraphDot.DotProgram = "dot";
            Directory.Delete(dir, true);
        }
    }
}
