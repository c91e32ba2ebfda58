using GraphNet.Nn;

namespace GraphNet.Tests;

/// <summary>torch.nn.init's distributions: bounds and standard deviations from PyTorch's formulas, orthogonality by the Gram matrix.</summary>
public class InitTests
{
    private static double[] Draw(Initializer init, params int[] shape) => init.Create(DType.Float64, shape, 11).ToDoubleArray();

    private static double Std(double[] v) { double m = v.Average(); return Math.Sqrt(v.Select(x => (x - m) * (x - m)).Average()); }

    [Fact]
    public void XavierAndKaimingUsePyTorchsFansAndGains()
    {
        // A conv weight [64, 32, 3, 3]: fan_in 288, fan_out 576.
        int[] conv = [64, 32, 3, 3];
        double xb = Math.Sqrt(6.0 / (288 + 576));
        var xu = Draw(Init.XavierUniform(), conv);
        Assert.All(xu, v => Assert.InRange(v, -xb, xb));
        Assert.InRange(xu.Max(), 0.99 * xb, xb);
        Assert.InRange(Std(Draw(Init.XavierNormal(2), conv)), 0.97 * 2 * Math.Sqrt(2.0 / 864), 1.03 * 2 * Math.Sqrt(2.0 / 864));
        // kaiming_uniform(a=√5), PyTorch's default for layers: bound 1/√fan_in.
        var ku = Draw(Init.KaimingUniform(Math.Sqrt(5)), conv);
        Assert.InRange(ku.Max(), 0.99 / Math.Sqrt(288), 1 / Math.Sqrt(288));
        Assert.All(ku, v => Assert.InRange(v, -1 / Math.Sqrt(288), 1 / Math.Sqrt(288)));
        double relu = Math.Sqrt(2) / Math.Sqrt(576);
        Assert.InRange(Std(Draw(Init.KaimingNormal(mode: "fan_out", nonlinearity: "relu"), conv)), 0.97 * relu, 1.03 * relu);
        Assert.Equal(5.0 / 3, Init.CalculateGain("tanh"));
        Assert.Equal(Math.Sqrt(2 / (1 + 0.2 * 0.2)), Init.CalculateGain("leaky_relu", 0.2));
        Assert.Throws<GraphException>(() => Draw(Init.XavierUniform(), 5));
    }

    [Theory]
    [InlineData(6, 4), InlineData(3, 8), InlineData(4, 4)]
    public void OrthogonalGivesOrthonormalRowsOrColumns(int rows, int cols)
    {
        var w = Draw(Init.Orthogonal(1.5), rows, cols);
        bool byColumns = rows >= cols;
        int n = byColumns ? cols : rows, len = byColumns ? rows : cols;
        double At(int vec, int i) => byColumns ? w[i * cols + vec] : w[vec * cols + i];
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++)
            {
                double dot = Enumerable.Range(0, len).Sum(i => At(a, i) * At(b, i));
                Assert.Equal(a == b ? 1.5 * 1.5 : 0, dot, 10);
            }
    }

    [Fact]
    public void LayersTakeTheirInitializers()
    {
        var g = new Graph(seed: 1);
        var fc = new Linear(g, "fc", 3, 2, weightInit: Init.Constant(0.5), biasInit: Init.Zeros);
        Assert.Equal(Init.Constant(0.5), ((VariableOp)fc.Weight.Node.Op).Initializer);
        Assert.Equal(Init.Zeros, ((VariableOp)fc.Bias!.Node.Op).Initializer);
        var conv = new Conv1d(g, "conv", 2, 4, 3, weightInit: Init.Orthogonal());
        Assert.IsType<OrthogonalInit>(((VariableOp)conv.Weight.Node.Op).Initializer);
    }

    [Fact]
    public void GraphFilesKeepTheNewInitializers()
    {
        var g = new Graph(seed: 1);
        _ = new Linear(g, "a", 3, 2, weightInit: Init.XavierNormal(0.5), biasInit: Init.Zeros);
        _ = new Conv1d(g, "b", 2, 4, 3, weightInit: Init.KaimingUniform(0.1, "fan_out", "relu"), biasInit: Init.Ones);
        _ = new Embedding(g, "c", 5, 3, paddingIdx: 1);
        _ = g.Variable("d", [4, 4], Init.Orthogonal(2));
        var path = Path.Combine(Path.GetTempPath(), $"init-{Guid.NewGuid():N}.graph.json");
        try
        {
            GraphFile.Save(g, path);
            var loaded = GraphFile.Load(path);
            var want = g.Variables.Select(v => ((VariableOp)v.Op).Initializer).ToList();
            var got = loaded.Variables.Select(v => ((VariableOp)v.Op).Initializer).ToList();
            Assert.Equal(want, got);
        }
        finally { File.Delete(path); }
    }
}
