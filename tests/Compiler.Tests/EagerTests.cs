using GraphNet.Bench;
using GraphNet.Runtime;

namespace GraphNet.Compiler.Tests;

[CollectionDefinition("memory", DisableParallelization = true)]
public class MemoryCollection;

[Collection("memory")]
public class EagerTests
{
    private static double[] Losses(ExecutionMode mode, ModelSpec spec, int steps, int batch)
    {
        using var exec = new Executor(new Graph(seed: 1), mode, new SessionOptions { UseCompileCache = false });
        var (train, _) = spec.Functions(exec);
        return Enumerable.Range(0, steps).Select(i =>
        {
            var (x, y) = spec.Batch(batch, seed: i);
            return train.Run([x, y])[0].Item();
        }).ToArray();
    }

    [Fact]
    public void EagerAndDeferredGiveTheSameCnnLossesWithDropout()
    {
        var eager = Losses(ExecutionMode.Eager, ModelSpec.Cnn, 5, 16);
        var deferred = Losses(ExecutionMode.Deferred, ModelSpec.Cnn, 5, 16);
        for (int i = 0; i < 5; i++)
            Assert.True(Math.Abs(eager[i] - deferred[i]) <= 1e-4 * Math.Abs(deferred[i]), $"step {i}: eager {eager[i]}, deferred {deferred[i]}");
        Assert.True(deferred[4] != deferred[0]); // it trains
    }

    [Fact]
    public void EagerTensorsHaveValuesAtOnce()
    {
        var g = new Graph();
        using var eager = new EagerContext(g);
        using var step = eager.Step();
        var x = g.Constant(NDArray.From(new float[] { 1, -2, 3 }, 3));
        var y = F.Relu(x) * 2.0;
        Assert.Equal(new[] { 2f, 0f, 6f }, y.Value.As<float>());
        var dx = F.Gradient(F.Sum(y), x)!;
        Assert.Equal(new[] { 2f, 0f, 2f }, dx.Value.As<float>());
    }

    [Fact]
    public void EagerOptimizerStepsUpdateVariablesImmediately()
    {
        var g = new Graph();
        using var eager = new EagerContext(g);
        var w = g.Variable("w", [2], Initializer.Constant(1));
        var sgd = new Train.Sgd(0.1);
        for (int i = 0; i < 3; i++)
            using (eager.Step()) sgd.Minimize(F.Sum(w * w)); // grad 2w: w ← w·0.8
        Assert.Equal(0.512f, eager.Variables.Get("w").As<float>()[0], 5);
    }

    [Fact]
    public void AThousandEagerStepsDoNotGrowMemory()
    {
        var spec = new ModelSpec("small", [16], g =>
        {
            var l1 = new Nn.Linear(g, "l1", 16, 32);
            var l2 = new Nn.Linear(g, "l2", 32, 10);
            return x => l2.Forward(F.Dropout(F.Relu(l1.Forward(x)), 0.2));
        }, F.CrossEntropy, () => new Train.Adam());
        using var exec = new Executor(new Graph(seed: 1), ExecutionMode.Eager);
        var (train, _) = spec.Functions(exec);
        var (x, y) = spec.Batch(8);
        long MemoryAfter(int steps)
        {
            for (int i = 0; i < steps; i++) train.Run([x, y]);
            GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
            return GC.GetTotalMemory(true);
        }
        MemoryAfter(100);
        int nodes = exec.Graph.Nodes.Count;
        long before = MemoryAfter(100);
        long after = MemoryAfter(900);
        Assert.Equal(nodes, exec.Graph.Nodes.Count); // the tape is released every step
        Assert.Equal(0, exec.Eager!.LiveValues);   // and so are its values
        Assert.True(after - before < 2_000_000, $"managed memory grew by {after - before:N0} bytes over 900 eager steps");
    }
}
