using static GraphNet.Tests.GradCheck;

namespace GraphNet.Tests;

/// <summary>
/// LayerNorm, GroupNorm, Embedding, PixelShuffle, nearest upsampling and adaptive pooling:
/// PyTorch's definitions as loops here, and finite differences.
/// </summary>
public class NormalizationAndResamplingTests
{
    private static NDArray[] Run(Func<Graph, Tensor[], Tensor[]> build, params NDArray[] values)
    {
        var g = new Graph(seed: 1);
        var ps = values.Select((v, i) => g.Placeholder(v.DType, v.Shape, $"p{i}")).ToArray();
        return RefEval.Run(build(g, ps), ps.Zip(values).ToDictionary(p => p.First, p => p.Second));
    }

    private static NDArray Random(int seed, params int[] shape) => RefEval.RandomDouble(new Random(seed), shape, -2, 2);

    [Fact]
    public void LayerAndGroupNormStandardizeWithTheBiasedVariance()
    {
        var x = Random(1, 2, 4, 3);
        var w = Random(2, 4, 3); var b = Random(3, 4, 3);
        var gw = Random(4, 4); var gb = Random(5, 4);
        var r = Run((g, p) => [F.LayerNorm(p[0], [4, 3], p[1], p[2]), F.GroupNorm(p[0], 2, p[3], p[4])], x, w, b, gw, gb);
        double[] X = x.ToDoubleArray();
        for (int n = 0; n < 2; n++)
        {
            var sample = X.Skip(n * 12).Take(12).ToArray();
            double mean = sample.Average(), v = sample.Select(s => (s - mean) * (s - mean)).Average();
            for (int i = 0; i < 12; i++)
                Assert.Equal((sample[i] - mean) / Math.Sqrt(v + 1e-5) * w.GetDouble(i) + b.GetDouble(i), r[0].GetDouble(n * 12 + i), 12);
            for (int group = 0; group < 2; group++) // channels 2·group and 2·group + 1, 3 positions each
            {
                var part = sample.Skip(group * 6).Take(6).ToArray();
                double gm = part.Average(), gv = part.Select(s => (s - gm) * (s - gm)).Average();
                for (int i = 0; i < 6; i++)
                {
                    int c = group * 2 + i / 3;
                    double want = (part[i] - gm) / Math.Sqrt(gv + 1e-5) * gw.GetDouble(c) + gb.GetDouble(c);
                    Assert.Equal(want, r[1].GetDouble(n * 12 + group * 6 + i), 12);
                }
            }
        }
        Check((g, p) => F.LayerNorm(p[0], [3], p[1], p[2]), new Input([2, 4, 3]), new Input([3]), new Input([3]));
        Check((g, p) => F.GroupNorm(p[0], 2, p[1], p[2]), new Input([2, 4, 3]), new Input([4]), new Input([4]));
    }

    [Fact]
    public void TheGradientOfATrainingBatchNormMatchesFiniteDifferences() =>
        Check((g, p) =>
        {
            var rm = g.Variable("rm", [3], Initializer.Zeros, DType.Float64, trainable: false);
            var rv = g.Variable("rv", [3], Initializer.Ones, DType.Float64, trainable: false);
            return F.BatchNorm(p[0], rm, rv, p[1], p[2], training: g.Constant(NDArray.From([true])));
        }, new Input([4, 3, 2]), new Input([3], 0.5, 1.5), new Input([3]));

    [Fact]
    public void EmbeddingLooksUpRowsAndLeavesThePaddingRowWithoutAGradient()
    {
        var weight = Random(6, 5, 3);
        var idx = NDArray.From(new long[] { 4, 0, 2, 0 }, 2, 2);
        var r = Run((g, p) =>
        {
            var e = F.Embedding(p[1], p[0], paddingIdx: 0);
            return [e, F.Gradients([F.Sum(e * e)], [p[0]])[0]!];
        }, weight, idx);
        Assert.Equal(new[] { 2, 2, 3 }, r[0].Shape);
        long[] I = [4, 0, 2, 0];
        for (int k = 0; k < 4; k++)
            for (int j = 0; j < 3; j++) Assert.Equal(weight.GetDouble((int)I[k] * 3 + j), r[0].GetDouble(k * 3 + j));
        // d/dW of Σ e² is 2·W[row] per use: row 4 and row 2 once, row 0 (padding) nothing.
        for (int j = 0; j < 3; j++)
        {
            Assert.Equal(0, r[1].GetDouble(j));
            Assert.Equal(2 * weight.GetDouble(12 + j), r[1].GetDouble(12 + j), 12);
            Assert.Equal(2 * weight.GetDouble(6 + j), r[1].GetDouble(6 + j), 12);
        }
        var layer = new Nn.Embedding(new Graph(seed: 3), "emb", 6, 4, paddingIdx: 2);
        var init = ((VariableOp)layer.Weight.Node.Op).Initializer!.Create(DType.Float32, [6, 4], 7);
        Assert.All(Enumerable.Range(8, 4), i => Assert.Equal(0.0, init.GetDouble(i)));
        Assert.Contains(init.ToDoubleArray(), v => v != 0);
    }

    [Fact]
    public void PixelShuffleAndNearestUpsamplingMoveEachElementWherePyTorchPutsIt()
    {
        var x = Random(7, 2, 8, 2, 3); // C = 2, r = 2
        var r = Run((g, p) => [F.PixelShuffle(p[0], 2), F.UpsampleNearest(p[0], 3)], x);
        Assert.Equal(new[] { 2, 2, 4, 6 }, r[0].Shape);
        Assert.Equal(new[] { 2, 8, 6, 9 }, r[1].Shape);
        for (int n = 0; n < 2; n++)
            for (int c = 0; c < 2; c++)
                for (int h = 0; h < 4; h++)
                    for (int w = 0; w < 6; w++)
                    {
                        // out[n, c, h, w] = in[n, c·r² + (h % r)·r + w % r, h / r, w / r]
                        int ic = c * 4 + (h % 2) * 2 + w % 2;
                        Assert.Equal(x.GetDouble(((n * 8 + ic) * 2 + h / 2) * 3 + w / 2), r[0].GetDouble(((n * 2 + c) * 4 + h) * 6 + w));
                    }
        for (int i = 0; i < r[1].Size; i++)
        {
            int w = i % 9, h = i / 9 % 6, c = i / 54 % 8, n = i / 432;
            Assert.Equal(x.GetDouble(((n * 8 + c) * 2 + h / 3) * 3 + w / 3), r[1].GetDouble(i));
        }
        Check((g, p) => F.PixelShuffle(p[0], 2) * F.PixelShuffle(p[0], 2), new Input([1, 4, 2, 2]));
        Check((g, p) => F.UpsampleNearest(p[0], 2) * F.UpsampleNearest(p[0], 2), new Input([1, 2, 2, 3]));
    }

    [Theory]
    [InlineData(6, 4, 3, 2), InlineData(5, 7, 3, 4), InlineData(4, 4, 1, 1)]
    public void AdaptiveAveragePoolingAveragesPyTorchsWindows(int h, int w, int oh, int ow)
    {
        var x = Random(8, 1, 2, h, w);
        var y = Run((g, p) => [F.AdaptiveAvgPool2d(p[0], oh, ow)], x)[0];
        Assert.Equal(new[] { 1, 2, oh, ow }, y.Shape);
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    int h0 = i * h / oh, h1 = (int)Math.Ceiling((i + 1) * h / (double)oh);
                    int w0 = j * w / ow, w1 = (int)Math.Ceiling((j + 1) * w / (double)ow);
                    double sum = 0;
                    for (int a = h0; a < h1; a++) for (int b = w0; b < w1; b++) sum += x.GetDouble((c * h + a) * w + b);
                    Assert.Equal(sum / ((h1 - h0) * (w1 - w0)), y.GetDouble((c * oh + i) * ow + j), 12);
                }
        Check((g, p) => F.AdaptiveAvgPool2d(p[0], oh, ow), new Input([1, 2, h, w]));
    }
}
