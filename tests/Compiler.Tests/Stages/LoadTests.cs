namespace GraphNet.Compiler.Tests.Stages;

public class LoadTests
{
    [Fact]
    public void TheLoadedStepRunsAndLivesInItsOwnCollectibleContext()
    {
        var (g, x, y) = StageTestKit.Dense();
        var c = StageTestKit.RunThrough("load", g, [y], [x]);
        using var exe = c.Executable;
        Assert.True(exe.LoadContext!.IsCollectible);
        Assert.Equal("graphnet-" + c.Report.CacheKey[..12], exe.LoadContext.Name);
        var store = new Runtime.VariableStore();
        store.Initialize(g);
        var feeds = new Dictionary<Tensor, NDArray> { [x] = NDArray.From(new float[] { 1, 2, 3, 4, -1, -2, -3, -4 }, 2, 4) };
        var result = exe.Run(feeds, store, new EvalContext());
        // relu(0.5·Σx + 0.1) per output, three outputs: 3·(0.5·10 + 0.1) and 0 for the negative row.
        Assert.Equal(new[] { 15.3f, 0f }, result[0].As<float>(), (a, b) => Math.Abs(a - b) < 1e-4);
    }
}
