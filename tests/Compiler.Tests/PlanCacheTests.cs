using GraphNet.Bench;

namespace GraphNet.Compiler.Tests;

/// <summary>
/// The compile cache's plans: a graph seen before (in another session, as in another process)
/// skips every stage but loading, and then computes exactly what the full compilation did; what
/// changes the result (a constant's values) misses, and what does not (moved lines, nodes
/// elsewhere in the graph) hits.
/// </summary>
public class PlanCacheTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("graphnet-plans-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    private SessionOptions Options => new() { CacheDirectory = dir };

    /// <summary>Three training steps of a bench model built afresh: the losses, a weight after them, and the compiled step.</summary>
    private (double[] Losses, float[] Weight, CompiledExecutable Exe) Train(string model)
    {
        var m = model == "cnn" ? BenchModel.Cnn() : BenchModel.Lstm();
        using var s = new Session(m.Graph, Options);
        var feeds = m.Batch(4);
        var losses = Enumerable.Range(0, 3).Select(_ => s.Run([m.Loss, m.TrainStep], feeds)[0].Item()).ToArray();
        var weight = s.GetVariable(((VariableOp)m.Graph.Variables[0].Op).VarName).As<float>().ToArray();
        return (losses, weight, s.Compiled([m.Loss, m.TrainStep], feeds));
    }

    [Theory]
    [InlineData("cnn"), InlineData("lstm")]
    public void ARestoredPlanRunsOnlyLoadingAndTrainsExactlyAsTheFullCompilationDid(string model)
    {
        var (losses, weight, first) = Train(model);
        Assert.False(first.Report.Restored);
        Assert.NotEmpty(Directory.GetFiles(dir, "*.plan"));
        var (again, weightAgain, second) = Train(model);
        Assert.True(second.Report.Restored);
        Assert.Equal("hit", second.Report.Cache);
        Assert.Equal(["restore", "scan_bodies", "load"], second.Report.Stages.Select(s => s.Stage));
        Assert.Equal(first.KernelCount, second.KernelCount);
        Assert.Equal(first.Memory.Slots, second.Memory.Slots);
        Assert.Equal(first.Report.Fusion.Decisions.Select(d => d.Reason), second.Report.Fusion.Decisions.Select(d => d.Reason));
        Assert.Equal(losses, again);
        Assert.Equal(weight, weightAgain);
        // A scan's body is a compilation of its own, restored the same way.
        Assert.Equal(first.Bodies.Count, second.Bodies.Count);
        Assert.All(second.Bodies.Values, b => Assert.True(b.Report.Restored));
        Assert.Equal(model == "lstm", second.Bodies.Count > 0);
    }

    private static (Graph, Tensor X, Tensor Y) Small(bool movedLines, float[]? constant = null, bool extraNode = false)
    {
        var g = new Graph();
        var x = g.Placeholder([-1, 8], "x");
        var w = g.Variable("w", [8, 3], Initializer.Constant(0.25));
        var c = g.Constant(NDArray.From(constant ?? [.. Enumerable.Range(1, 8).Select(i => i / 8f)], 8));
        Tensor y;
        if (!movedLines) y = F.Sum(F.Tanh(F.MatMul(x * c, w)), [1]);
        else
        {
            // The same nodes, made on another line.
            y = F.Sum(F.Tanh(F.MatMul(x * c, w)), [1]);
        }
        if (extraNode) F.Exp(x); // a node nothing here fetches
        return (g, x, y);
    }

    private (float[] Result, CompiledExecutable Exe, Graph Graph) Run((Graph G, Tensor X, Tensor Y) model)
    {
        using var s = new Session(model.G, Options);
        var feeds = new Dictionary<Tensor, NDArray> { [model.X] = NDArray.From(Enumerable.Range(0, 16).Select(i => i / 16f).ToArray(), 2, 8) };
        var result = s.Run(model.Y, feeds).As<float>().ToArray();
        return (result, s.Compiled([model.Y], feeds), model.G);
    }

    [Fact]
    public void ARestoredPlanNamesTheUsersCurrentLines()
    {
        var (_, first, before) = Run(Small(movedLines: false));
        var (_, second, after) = Run(Small(movedLines: true));
        Assert.True(second.Report.Restored); // moving code is no reason to compile again
        int Line(Graph g) => g.Nodes.Single(n => n.Op is UnaryOp { Fn.Name: "tanh" }).Source.Line;
        Assert.NotEqual(Line(before), Line(after));
        Assert.Equal(Line(before), Line(first.Unit.Graph));
        Assert.Equal(Line(after), Line(second.Unit.Graph));
        Assert.Contains(second.Kernels, k => k.SourceLines.Any(l => l.EndsWith($":{Line(after)}")));
    }

    [Fact]
    public void AConstantWithOtherValuesMissesAndComputesWithItsOwnValues()
    {
        var (a, _, _) = Run(Small(false));
        var other = Enumerable.Range(1, 8).Select(i => -i / 4f).ToArray();
        var (b, exe, _) = Run(Small(false, other));
        Assert.False(exe.Report.Restored); // the text form shows only "<8 values>": the key holds the values
        var (again, restored, _) = Run(Small(false, other));
        Assert.True(restored.Report.Restored);
        Assert.Equal(b, again);
        Assert.NotEqual(a, b);
        var (g, x, y) = Small(false, other);
        using var interpreter = new Session(g, new SessionOptions { Backend = Backend.Interpreter });
        var input = NDArray.From(Enumerable.Range(0, 16).Select(i => i / 16f).ToArray(), 2, 8);
        var expected = interpreter.Run(y, new Dictionary<Tensor, NDArray> { [x] = input });
        Assert.All(expected.As<float>().ToArray().Zip(b), p => Assert.Equal(p.First, p.Second, 1e-5f));
    }

    [Fact]
    public void NodesNothingFetchesLeaveThePlanValid()
    {
        Run(Small(false));
        var (_, exe, _) = Run(Small(false, extraNode: true));
        Assert.True(exe.Report.Restored);
    }

    [Theory]
    [InlineData("garbage"), InlineData("truncated"), InlineData("empty")]
    public void ADamagedPlanIsAMissThatIsWrittenAgain(string damage)
    {
        var (good, _, _) = Run(Small(false));
        var file = Directory.GetFiles(dir, "*.plan").Single();
        var bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, damage switch
        {
            "garbage" => [.. Enumerable.Range(0, bytes.Length).Select(i => (byte)(i * 31))],
            "truncated" => bytes[..(bytes.Length / 2)],
            _ => [],
        });
        var (again, exe, _) = Run(Small(false));
        Assert.False(exe.Report.Restored);
        Assert.Equal(good, again);
        var (third, restored, _) = Run(Small(false));
        Assert.True(restored.Report.Restored);
        Assert.Equal(good, third);
    }
}
