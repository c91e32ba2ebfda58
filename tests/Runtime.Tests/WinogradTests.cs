using GraphNet.Runtime.Kernels;

namespace GraphNet.Runtime.Tests;

/// <summary>
/// Winograd F(2×2,3×3) convolution and both its gradients against the float64 reference loops
/// (and against the im2col kernels, which the rest of the suite checks), over shapes that hit
/// its edges: odd output sizes (half tiles), one tile, rows wider than 16 tiles (two vector
/// chunks), every padding a transposed convolution allows, and bands split within a sample.
/// </summary>
public class WinogradTests
{
    public static TheoryData<ConvAlgorithm, int, int, int, int, int, int> Cases()
    {
        var data = new TheoryData<ConvAlgorithm, int, int, int, int, int, int>();
        foreach (var tile in new[] { ConvAlgorithm.Winograd2x2, ConvAlgorithm.Winograd4x4 })
        {
            // n, c, cout, h, w, padding
            data.Add(tile, 2, 32, 64, 26, 26, 0);   // the book's conv2
            data.Add(tile, 1, 16, 16, 3, 3, 0);     // a single 1×1 output: one tile, mostly clipped
            data.Add(tile, 3, 16, 24, 9, 7, 1);     // odd outputs: the last tile row and column are partial
            data.Add(tile, 2, 17, 19, 14, 37, 2);   // 39 columns out: 20 (or 10) tiles a row, past one vector of 16 (or 8)
            data.Add(tile, 1, 24, 16, 40, 12, 1);   // one sample, many tile rows: bands split it over cores
            data.Add(tile, 9, 16, 16, 6, 10, 1);    // small images: bands run on across samples
        }
        return data;
    }

    [Theory, MemberData(nameof(Cases))]
    public void WinogradMatchesTheFloat64Reference(ConvAlgorithm tile, int n, int c, int cout, int h, int w, int padding)
    {
        var rng = new Random(n * 100 + c + h);
        var p = new ConvParams([1, 1], [padding, padding], [1, 1], 1);
        Assert.True(Winograd.Applies(c, cout, 3, 3, p));
        var x = RefEval.RandomFloat(rng, [n, c, h, w]);
        var wt = RefEval.RandomFloat(rng, [cout, c, 3, 3]);
        var y = Conv.Forward(x, wt, p, algorithm: tile);
        // Sums of 9·C products of values in [−1, 1]: compare on the scale of the terms. F(4×4)'s
        // transforms (entries up to 8 and 1/24) round more than F(2×2)'s (±1 and ½).
        double scale = Math.Sqrt(9.0 * c) * (tile == ConvAlgorithm.Winograd4x4 ? Loose : 1);
        RefEval.AssertClose(ConvReference.Forward<double>(ToDouble(x), ToDouble(wt), p), y, 1e-5, 2e-6 * scale, "forward");
        RefEval.AssertClose(Conv.Forward(x, wt, p, algorithm: ConvAlgorithm.Im2Col), y, 1e-5, 2e-6 * scale, "forward vs im2col");

        var dy = RefEval.RandomFloat(rng, y.Shape);
        var gradScale = Math.Sqrt(9.0 * cout) * (tile == ConvAlgorithm.Winograd4x4 ? Loose : 1);
        int[] noPad = [0, 0];
        var dx = Conv.Transposed(dy, wt, p, noPad, algorithm: tile);
        Assert.Equal(x.Shape, dx.Shape);
        RefEval.AssertClose(ConvReference.Transposed<double>(ToDouble(dy), ToDouble(wt), p, noPad), dx, 1e-5, 2e-6 * gradScale, "data gradient");

        var dw = Conv.FilterGrad(x, dy, p, 3, 3, algorithm: tile);
        double filterScale = Math.Sqrt((double)n * y.Shape[2] * y.Shape[3]) * (tile == ConvAlgorithm.Winograd4x4 ? Loose : 1);
        RefEval.AssertClose(ConvReference.FilterGrad<double>(ToDouble(x), ToDouble(dy), p, 3, 3), dw, 1e-5, 4e-6 * filterScale, "filter gradient");
        RefEval.AssertClose(Conv.FilterGrad(x, dy, p, 3, 3, algorithm: ConvAlgorithm.Im2Col), dw, 1e-5, 4e-6 * filterScale, "filter gradient vs im2col");
    }

    [Theory, InlineData(ConvAlgorithm.Winograd2x2), InlineData(ConvAlgorithm.Winograd4x4)]
    public void WinogradWritesEveryOutputOfAReusedBuffer(ConvAlgorithm tile)
    {
        // Compiled steps hand kernels buffers that hold the last step's values.
        var rng = new Random(3);
        var p = new ConvParams([1, 1], [1, 1], [1, 1], 1);
        var x = RefEval.RandomFloat(rng, [2, 16, 11, 11]);
        var wt = RefEval.RandomFloat(rng, [16, 16, 3, 3]);
        var into = NDArray.Zeros(DType.Float32, 2, 16, 11, 11);
        Array.Fill(into.As<float>(), float.NaN);
        var y = Conv.Forward(x, wt, p, into, tile);
        RefEval.AssertClose(ConvReference.Forward<double>(ToDouble(x), ToDouble(wt), p), y, 1e-5, 1e-4, "forward into a dirty buffer");
        var dw = NDArray.Zeros(DType.Float32, 16, 16, 3, 3);
        Array.Fill(dw.As<float>(), float.NaN);
        Conv.FilterGrad(x, y, p, 3, 3, dw, tile);
        RefEval.AssertClose(ConvReference.FilterGrad<double>(ToDouble(x), ToDouble(y), p, 3, 3), dw, 1e-5, 1e-3, "filter gradient into a dirty buffer");
    }

    [Theory, InlineData(ConvAlgorithm.Winograd2x2), InlineData(ConvAlgorithm.Winograd4x4)]
    public void WeightsChangedInPlaceAreSeenByTheNextCall(ConvAlgorithm tile)
    {
        // Transformed filters are cached per weight array; an optimizer step rewrites the array.
        var rng = new Random(4);
        var p = new ConvParams([1, 1], [1, 1], [1, 1], 1);
        var x = RefEval.RandomFloat(rng, [1, 16, 6, 6]);
        var wt = RefEval.RandomFloat(rng, [16, 16, 3, 3]);
        var dy = RefEval.RandomFloat(rng, [1, 16, 6, 6]);
        int[] noPad = [0, 0];
        for (int step = 0; step < 3; step++)
        {
            var y = Conv.Forward(x, wt, p, algorithm: tile);
            var dx = Conv.Transposed(dy, wt, p, noPad, algorithm: tile);
            RefEval.AssertClose(ConvReference.Forward<double>(ToDouble(x), ToDouble(wt), p), y, 1e-5, 1e-4, $"forward, step {step}");
            RefEval.AssertClose(ConvReference.Transposed<double>(ToDouble(dy), ToDouble(wt), p, noPad), dx, 1e-5, 1e-4, $"data gradient, step {step}");
            wt.As<float>()[step * 100 + 7] += 0.5f; // one weight moves, as after an update
        }
    }

    [Fact]
    public void AskingForWinogradWhereItDoesNotApplySaysWhy()
    {
        var p = new ConvParams([2, 2], [0, 0], [1, 1], 1);
        var x = NDArray.Zeros(DType.Float32, 1, 16, 8, 8);
        var wt = NDArray.Zeros(DType.Float32, 16, 16, 3, 3);
        var e = Assert.Throws<ArgumentException>(() => Conv.Forward(x, wt, p, algorithm: ConvAlgorithm.Winograd4x4));
        Assert.Contains("stride 2x2", e.Message);
        // A transposed convolution with output padding is not one Winograd convolution either;
        // asked for explicitly, it says so instead of quietly taking im2col.
        var unit = new ConvParams([1, 1], [1, 1], [1, 1], 1);
        var t = Assert.Throws<ArgumentException>(() => Conv.Transposed(x, wt, unit, [1, 1], algorithm: ConvAlgorithm.Winograd2x2));
        Assert.Contains("output padding 1x1", t.Message);
        Assert.Equal(x.Shape[2] + 1, Conv.Transposed(x, wt, unit, [1, 1]).Shape[2]); // Auto takes im2col there
    }

    [Theory]
    [InlineData(ConvAlgorithm.Winograd2x2, 16), InlineData(ConvAlgorithm.Winograd4x4, 16), InlineData(ConvAlgorithm.Im2Col, 16), InlineData(ConvAlgorithm.Direct, 3)]
    public void BiasAndReluAreAppliedAsTheOutputIsStored(ConvAlgorithm algorithm, int channels)
    {
        // A compiled conv → add bias → relu hands the last two to the convolution: the same values
        // as the reference convolution, plus the channel's bias, through ReLU (negative ones made 0).
        var rng = new Random(8);
        var p = new ConvParams([1, 1], [1, 1], [1, 1], 1);
        var x = RefEval.RandomFloat(rng, [3, channels, 10, 9]);
        var wt = RefEval.RandomFloat(rng, [16, channels, 3, 3]);
        var bias = RefEval.RandomFloat(rng, [16]);
        var into = NDArray.Zeros(DType.Float32, 3, 16, 10, 9);
        Array.Fill(into.As<float>(), float.NaN);
        var y = Conv.Forward(x, wt, p, into, algorithm, bias, relu: true);
        var expected = ConvReference.Forward<double>(ToDouble(x), ToDouble(wt), p).ToDoubleArray();
        for (int i = 0; i < expected.Length; i++) expected[i] = Math.Max(0, expected[i] + bias.As<float>()[i / 90 % 16]);
        RefEval.AssertClose(NDArray.From(expected, y.Shape), y, 1e-5, 1e-4, $"{algorithm} with bias and relu");
        Assert.Contains(y.As<float>(), v => v == 0); // ReLU cut some
        var noRelu = Conv.Forward(x, wt, p, algorithm: algorithm, bias: bias);
        Assert.Contains(noRelu.As<float>(), v => v < 0);
    }

    [Fact]
    public void AutoTakesTheLargeTileWhereTheOutputIsAtLeast8By8()
    {
        Assert.Equal(WinogradTile.F4x4, Winograd.Choose(24, 24));
        Assert.Equal(WinogradTile.F4x4, Winograd.Choose(8, 8));
        Assert.Equal(WinogradTile.F2x2, Winograd.Choose(7, 24));
        Assert.Equal(WinogradTile.F2x2, Winograd.Choose(24, 4));
    }

    /// <summary>How much more F(4×4,3×3) may round than F(2×2,3×3) in these comparisons.</summary>
    private const double Loose = 8;

    private static NDArray ToDouble(NDArray a) => NDArray.From(a.ToDoubleArray(), a.Shape);
}
