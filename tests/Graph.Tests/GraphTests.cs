using GraphNet.Nn;

namespace GraphNet.Tests;

public class GraphTests
{
    [Fact]
    public void TextFormIsDeterministicAndReadable()
    {
        string Build()
        {
            var g = new Graph();
            var x = g.Placeholder([-1, 1, 28, 28], "images");
            var conv = new Conv2d(g, "conv1", 1, 4, 3);
            var y = F.Relu(conv.Forward(x));
            F.Sum(y);
            return g.ToText();
        }
        var text = Build();
        Assert.Equal(text, Build());
        Assert.Equal("""
            %0 = placeholder() : f32[N,1,28,28]  # images
            %1 = variable() {name=conv1.weight, init=uniform(-0.3333333333333333,0.3333333333333333), trainable=true} : f32[4,1,3,3]  # conv1.weight
            %2 = variable() {name=conv1.bias, init=uniform(-0.3333333333333333,0.3333333333333333), trainable=true} : f32[4]  # conv1.bias
            %3 = conv2d(%0, %1) {stride=[1,1], padding=[0,0], dilation=[1,1], groups=1} : f32[N,4,26,26]  # conv1/conv2d
            %4 = reshape(%2) {shape=[-1,1,1]} : f32[4,1,1]  # conv1/reshape
            %5 = add(%3, %4) : f32[N,4,26,26]  # conv1/add
            %6 = relu(%5) : f32[N,4,26,26]  # relu
            %7 = reduce_sum(%6) {axes=[], keepdims=false} : f32[]  # reduce_sum

            """.ReplaceLineEndings(), text);
    }

    [Fact]
    public void NodesRememberTheUserSourceLine()
    {
        var g = new Graph();
        var x = g.Placeholder([2], "x"); int line = LineHere() + 1;
        var y = F.Exp(x);
        Assert.EndsWith("GraphTests.cs", y.Node.Source.File);
        Assert.Equal(line, y.Node.Source.Line);
        Assert.Contains("GraphTests.cs:", g.ToText(withSource: true));
    }

    private static int LineHere([System.Runtime.CompilerServices.CallerLineNumber] int line = 0) => line;

    [Fact]
    public void ShapeErrorsNameTheOpTheNodeTheShapesAndTheLine()
    {
        var g = new Graph();
        var a = g.Placeholder([-1, 3], "a");
        var b = g.Placeholder([4, 5], "b");
        var e = Assert.Throws<GraphException>(() => F.MatMul(a, b));
        Assert.Contains("matmul: inner dimensions differ", e.Message);
        Assert.Contains("[N,3]", e.Message);
        Assert.Contains("'a' f32[N,3]", e.Message);
        Assert.Contains("GraphTests.cs:", e.Message);

        var e2 = Assert.Throws<GraphException>(() => a + g.Placeholder([4], "c"));
        Assert.Contains("cannot be broadcast", e2.Message);

        var img = g.Placeholder([-1, 3, 8, 8], "img");
        var w = g.Placeholder([4, 2, 3, 3], "w");
        var e3 = Assert.Throws<GraphException>(() => F.Conv2d(img, w));
        Assert.Contains("input has 3 channels", e3.Message);
    }

    [Fact]
    public void TensorsOfTwoGraphsCannotBeMixed()
    {
        var a = new Graph().Placeholder([2], "a");
        var b = new Graph().Placeholder([2], "b");
        var e = Assert.Throws<GraphException>(() => a + b);
        Assert.Contains("belongs to another Graph", e.Message);
    }

    [Fact]
    public void SymbolicBatchFlowsThroughShapes()
    {
        var g = new Graph();
        var x = g.Placeholder([-1, 64, 12, 12], "x");
        var f = F.Flatten(x);
        Assert.Equal("[N,9216]", f.Shape.ToString());
        var y = F.MatMul(f, g.Placeholder([10, 9216], "w"), transB: true);
        Assert.Equal("[N,10]", y.Shape.ToString());
        Assert.Equal("[10]", F.Sum(y, [0]).Shape.ToString());
        var e = Assert.Throws<GraphException>(() => F.Reshape(x, 100, -1));
        Assert.Contains("must take N or a multiple of N", e.Message);
    }

    [Fact]
    public void AnInferredReshapeDimensionTakesAMultipleOfTheBatch()
    {
        // PyTorch's view(-1, V) of a time-major [T, N, V] tensor: T·N rows, not N.
        var g = new Graph();
        var x = g.Placeholder([35, -1, 200], "x");
        var rows = F.Reshape(x, -1, 200);
        Assert.Equal("[35N,200]", rows.Shape.ToString());
        Assert.Equal(35 * 200, rows.Shape.StaticSize);
        Assert.Equal([35 * 4, 200], rows.Shape.Resolve(4));
        Assert.Equal("[35,N,200]", F.Reshape(rows, 35, -1, 200).Shape.ToString());
        Assert.Equal("[7N,1000]", F.Reshape(x, -1, 1000).Shape.ToString());
        Assert.Equal("[35,N,200]", F.Gradients([F.Sum(F.Square(rows))], [x])[0]!.Shape.ToString());
        var e = Assert.Throws<GraphException>(() => F.Reshape(x, -1, 3));
        Assert.Contains("does not divide 7000", e.Message);
        Assert.Throws<GraphException>(() => F.Slice(rows, 0, 0, 2));
        var p = Assert.Throws<GraphException>(() => g.Placeholder([-2, 3], "bad"));
        Assert.Contains("placeholder 'bad'", p.Message);
    }

    [Fact]
    public void NameScopesPrefixNamesAndNamesAreUnique()
    {
        var g = new Graph();
        var x = g.Placeholder([2], "x");
        Tensor a, b;
        using (g.NameScope("block")) { a = F.Exp(x); b = F.Exp(x); }
        Assert.Equal("block/exp", a.Name);
        Assert.Equal("block/exp_1", b.Name);
        Assert.Throws<GraphException>(() => g.Variable("w", [1], Initializer.Zeros).Graph.Variable("w", [1], Initializer.Zeros));
    }

    [Fact]
    public void GradientsReturnNullForUnconnectedInputsAndSumSeveralPaths()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float64, [3], "x");
        var z = g.Placeholder(DType.Float64, [3], "z");
        var y = F.Sum(x * x + F.Exp(x));
        var grads = F.Gradients([y], [x, z]);
        Assert.Null(grads[1]);
        var xv = NDArray.From(new[] { 0.5, -1.0, 2.0 }, 3);
        var gv = RefEval.Run(grads[0]!, (x, xv));
        for (int i = 0; i < 3; i++) Assert.Equal(2 * xv.As<double>()[i] + Math.Exp(xv.As<double>()[i]), gv.As<double>()[i], 12);
        Assert.All(g.Nodes.Where(n => n.Id > y.Node.Id), n => Assert.True(n.IsBackward || n.Op is ConstantOp or ReduceOp or BinaryOp, n.ToString()));
    }

    [Fact]
    public void BackwardNodesPointToTheirForwardNode()
    {
        var g = new Graph();
        var x = g.Placeholder([3], "x");
        var r = F.Relu(x);
        var dx = F.Gradient(F.Sum(r), x)!;
        var reluGrad = g.Nodes.Single(n => n.Op is BinaryOp { Fn: var f } && f == Pointwise.ReluGrad);
        Assert.Same(r.Node, reluGrad.ForwardOf);
        Assert.NotNull(dx);
    }

    [Fact]
    public void SymbolicTensorsSayToRunThemInASession()
    {
        var g = new Graph();
        var e = Assert.Throws<InvalidOperationException>(() => g.Placeholder([2], "x").Value);
        Assert.Contains("run it in a session", e.Message);
    }
}

/// <summary>A culture run (GRAPHNET_TEST_CULTURE) really runs under that culture, on every thread.</summary>
public class CultureRunTests
{
    [Fact]
    public async Task TheNamedCultureIsTheCurrentOne()
    {
        if (GraphNet.Tests.TestCulture.Name is not { } name) return; // the invariant run: the machine's locale
        Assert.Equal(name, System.Globalization.CultureInfo.CurrentCulture.Name);
        Assert.Equal(name, await Task.Run(() => System.Globalization.CultureInfo.CurrentCulture.Name));
    }
}
