using static GraphNet.Tests.GradCheck;

namespace GraphNet.Tests;

/// <summary>Conv1d, 1-D pools, Dropout2d and Unflatten against PyTorch's definitions as loops, and finite differences.</summary>
public class OneDimensionalTests
{
    [Theory]
    [InlineData(1, 0, 1, 1), InlineData(2, 1, 1, 1), InlineData(1, 2, 2, 2)]
    public void Conv1dSumsEachWindowAsPyTorchDefinesIt(int stride, int padding, int dilation, int groups)
    {
        var rng = new Random(4);
        int n = 2, c = 4, l = 7, o = 4, k = 3;
        var x = RefEval.RandomDouble(rng, [n, c, l]);
        var w = RefEval.RandomDouble(rng, [o, c / groups, k]);
        var b = RefEval.RandomDouble(rng, [o]);
        var y = RefEval.Run(F.Conv1d(Const(x), Const(w), Const(b), stride, padding, dilation, groups));
        int lo = (l + 2 * padding - dilation * (k - 1) - 1) / stride + 1;
        Assert.Equal(new[] { n, o, lo }, y.Shape);
        for (int s = 0; s < n; s++)
            for (int oc = 0; oc < o; oc++)
                for (int t = 0; t < lo; t++)
                {
                    int g = oc / (o / groups);
                    double sum = b.GetDouble(oc);
                    for (int ic = 0; ic < c / groups; ic++)
                        for (int j = 0; j < k; j++)
                        {
                            int at = t * stride - padding + j * dilation;
                            if (at < 0 || at >= l) continue;
                            sum += w.GetDouble((oc * (c / groups) + ic) * k + j) * x.GetDouble((s * c + g * (c / groups) + ic) * l + at);
                        }
                    Assert.Equal(sum, y.GetDouble((s * o + oc) * lo + t), 12);
                }
        Check((gr, p) => F.Conv1d(p[0], p[1], p[2], stride, padding, dilation, groups),
            new Input([n, c, l]), new Input([o, c / groups, k]), new Input([o]));
    }

    private static readonly Graph G = new(seed: 1);
    private static Tensor Const(NDArray v) => G.Constant(v);

    [Fact]
    public void OneDimensionalPoolsTakeTheMaxOrMeanOfEachWindow()
    {
        var x = NDArray.From(new[] { 1.0, 5, -2, 4, 0, 3, 7 }, 1, 1, 7);
        // Kernel 2, stride 2, one padding each side: windows [pad, 1], [5, −2], [4, 0], [3, 7].
        Assert.Equal(new[] { 1.0, 5, 4, 7 }, RefEval.Run(F.MaxPool1d(Const(x), 2, padding: 1)).ToDoubleArray());
        Assert.Equal(new[] { 4 / 3.0, 7 / 3.0 }, RefEval.Run(F.AvgPool1d(Const(x), 3)).ToDoubleArray(), (a, b) => Math.Abs(a - b) < 1e-12);
        Check((g, p) => F.MaxPool1d(p[0], 3, 2, 1) + F.AvgPool1d(p[0], 3, 2, 1), new Input([2, 3, 7]));
    }

    [Fact]
    public void Dropout2dDropsWholeChannelsAndUnflattenSplitsADimension()
    {
        var g = new Graph(seed: 3);
        var x = g.Constant(NDArray.Ones(DType.Float64, 50, 40, 2, 3));
        var y = RefEval.Run(F.Dropout2d(x, 0.3, g.Constant(NDArray.From([true]))));
        int dropped = 0;
        for (int plane = 0; plane < 2000; plane++)
        {
            var values = Enumerable.Range(0, 6).Select(i => y.GetDouble(plane * 6 + i)).Distinct().ToArray();
            Assert.Single(values); // a plane is dropped or kept whole
            if (values[0] == 0) dropped++; else Assert.Equal(1 / 0.7, values[0], 12);
        }
        Assert.InRange(dropped / 2000.0, 0.3 - 5 * Math.Sqrt(0.21 / 2000), 0.3 + 5 * Math.Sqrt(0.21 / 2000));
        var flat = g.Placeholder([-1, 12], "flat");
        Assert.Equal(new Shape(-1, 3, 4), F.Unflatten(flat, 1, 3, 4).Shape);
        Assert.Throws<GraphException>(() => F.Unflatten(flat, 1, 5, 2));
        var prelu = new Nn.PReLU(g, "act", 3);
        Assert.Equal(new[] { 0.25, 0.25, 0.25 }, ((VariableOp)prelu.Weight.Node.Op).Initializer!.Create(DType.Float64, [3], 0).ToDoubleArray());
    }
}
