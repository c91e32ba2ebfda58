using GraphNet.Nn;

namespace GraphNet.Runtime.Tests;

public class InterpreterTests
{
    private static NDArray[] Interpret(Graph g, Tensor[] fetches, Dictionary<Tensor, NDArray> feeds, VariableStore? vars = null, long run = 0)
    {
        vars ??= new VariableStore();
        vars.Initialize(g);
        var plan = new RunPlan(g, fetches, feeds.Keys.ToArray());
        return Interpreter.Run(plan, feeds, vars, new EvalContext { RunCounter = run, GraphSeed = g.Seed });
    }

    [Fact]
    public void CnnForwardAndBackwardMatchTheReferenceEvaluation()
    {
        // The interpreter runs float32 kernels; the reference runs every op's plain loops.
        var g = new Graph(seed: 4);
        var x = g.Placeholder([-1, 1, 12, 12], "x");
        var labels = g.Placeholder(DType.Int64, [-1], "labels");
        var conv = new Conv2d(g, "conv", 1, 4, 3);
        var fc = new Linear(g, "fc", 4 * 5 * 5, 3);
        var h = F.Dropout(F.MaxPool2d(F.Relu(conv.Forward(x)), 2), 0.25);
        var loss = F.NllLoss(F.LogSoftmax(fc.Forward(F.Flatten(h)), 1), labels);
        var grads = F.Gradients([loss], [conv.Weight, fc.Weight]);
        var fetches = new[] { loss, grads[0]!, grads[1]! };
        var feeds = new Dictionary<Tensor, NDArray>
        {
            [x] = RefEval.RandomFloat(new Random(1), [5, 1, 12, 12]),
            [labels] = NDArray.From(new long[] { 0, 1, 2, 1, 0 }, 5),
        };
        var vars = new VariableStore();
        var got = Interpret(g, fetches, feeds, vars, run: 3);
        var expected = RefEval.Run(fetches, feeds, vars.Values, runCounter: 3);
        for (int i = 0; i < fetches.Length; i++) RefEval.AssertClose(expected[i], got[i], 1e-4, 1e-5, fetches[i].Name);
    }

    [Fact]
    public void AssignmentsTakeEffectAfterTheRunAndReadsSeeOldValues()
    {
        var g = new Graph();
        var v = g.Variable("v", [2], Initializer.Constant(1));
        var assign = g.AddNode(new AssignOp(), [v, v + 1.0]).Outputs[0];
        var readAfter = v * 10.0;
        var vars = new VariableStore();
        var r = Interpret(g, [assign, readAfter], [], vars);
        Assert.Equal(new[] { 2f, 2f }, r[0].As<float>());
        Assert.Equal(new[] { 10f, 10f }, r[1].As<float>());
        Assert.Equal(new[] { 2f, 2f }, vars.Get("v").As<float>());
    }

    [Fact]
    public void RunErrorsNameTheNodeAndItsSourceLine()
    {
        var g = new Graph();
        var idx = g.Placeholder(DType.Int64, [-1], "labels");
        var oh = F.OneHot(idx, 3);
        var e = Assert.Throws<GraphRunException>(() => Interpret(g, [oh], new() { [idx] = NDArray.From(new long[] { 1, 7 }, 2) }));
        Assert.Contains("index 7 is out of range [0, 3)", e.Message);
        Assert.Contains("one_hot 'one_hot'", e.Message);
        Assert.Contains("InterpreterTests.cs:", e.Message);
    }

    [Fact]
    public void FeedChecksNameThePlaceholderAndTheMismatch()
    {
        var g = new Graph();
        var x = g.Placeholder([-1, 3], "x");
        var y = g.Placeholder([-1, 2], "y");
        var s = F.Sum(x) + F.Sum(y);
        var wrongShape = Assert.Throws<GraphException>(() => Interpret(g, [s], new() { [x] = NDArray.Zeros(DType.Float32, 2, 4), [y] = NDArray.Zeros(DType.Float32, 2, 2) }));
        Assert.Contains("feed for 'x' has shape [2,4] but the placeholder is f32[N,3]", wrongShape.Message);
        var wrongType = Assert.Throws<GraphException>(() => Interpret(g, [s], new() { [x] = NDArray.Zeros(DType.Float64, 2, 3), [y] = NDArray.Zeros(DType.Float32, 2, 2) }));
        Assert.Contains("dtype f64", wrongType.Message);
        var batches = Assert.Throws<GraphException>(() => Interpret(g, [s], new() { [x] = NDArray.Zeros(DType.Float32, 2, 3), [y] = NDArray.Zeros(DType.Float32, 5, 2) }));
        Assert.Contains("batch size", batches.Message);
        var missing = Assert.Throws<GraphException>(() => Interpret(g, [s], new() { [x] = NDArray.Zeros(DType.Float32, 2, 3) }));
        Assert.Contains("placeholder 'y'", missing.Message);
        Assert.Contains("must be fed", missing.Message);
    }

    [Fact]
    public void IntermediateValuesAreReleasedAfterTheirLastUse()
    {
        var g = new Graph();
        var x = g.Placeholder([4], "x");
        var a = F.Exp(x); var b = F.Exp(a); var c = b * 2.0;
        var plan = new RunPlan(g, [c], [x]);
        var freedAfter = plan.Schedule.Zip(plan.Frees).ToDictionary(p => p.First, p => p.Second);
        Assert.Contains(a, freedAfter[b.Node]);
        Assert.DoesNotContain(c, plan.Frees.SelectMany(f => f));
    }
}
