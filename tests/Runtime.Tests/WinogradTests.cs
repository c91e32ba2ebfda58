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
    public static TheoryData<int, int, int, int, int, int> Cases() => new()
    {
        // n, c, cout, h, w, padding
        { 2, 32, 64, 26, 26, 0 },   // the book's conv2
        { 1, 16, 16, 3, 3, 0 },     // a single 1×1 output: one tile, three quarters clipped
        { 3, 16, 24, 9, 7, 1 },     // odd outputs: the last tile row and column are half tiles
        { 2, 17, 19, 14, 37, 2 },   // 39 columns out: 20 tiles a row, past one vector of 16
        { 1, 24, 16, 40, 12, 1 },   // one sample, many tile rows: bands split it over cores
    };

    [Theory, MemberData(nameof(Cases))]
    public void WinogradMatchesTheFloat64Reference(int n, int c, int cout, int h, int w, int padding)
    {
        var rng = new Random(n * 100 + c + h);
        var p = new ConvParams([1, 1], [padding, padding], [1, 1], 1);
        Assert.True(Winograd.Applies(c, cout, 3, 3, p));
        var x = RefEval.RandomFloat(rng, [n, c, h, w]);
        var wt = RefEval.RandomFloat(rng, [cout, c, 3, 3]);
        var y = Conv.Forward(x, wt, p, algorithm: ConvAlgorithm.Winograd);
        // Sums of 9·C products of values in [−1, 1]: compare on the scale of the terms.
        double scale = Math.Sqrt(9.0 * c);
        RefEval.AssertClose(ConvReference.Forward<double>(ToDouble(x), ToDouble(wt), p), y, 1e-5, 2e-6 * scale, "forward");
        RefEval.AssertClose(Conv.Forward(x, wt, p, algorithm: ConvAlgorithm.Im2Col), y, 1e-5, 2e-6 * scale, "forward vs im2col");

        var dy = RefEval.RandomFloat(rng, y.Shape);
        var gradScale = Math.Sqrt(9.0 * cout);
        int[] noPad = [0, 0];
        var dx = Conv.Transposed(dy, wt, p, noPad, algorithm: ConvAlgorithm.Winograd);
        Assert.Equal(x.Shape, dx.Shape);
        RefEval.AssertClose(ConvReference.Transposed<double>(ToDouble(dy), ToDouble(wt), p, noPad), dx, 1e-5, 2e-6 * gradScale, "data gradient");

        var dw = Conv.FilterGrad(x, dy, p, 3, 3, algorithm: ConvAlgorithm.Winograd);
        double filterScale = Math.Sqrt((double)n * y.Shape[2] * y.Shape[3]);
        RefEval.AssertClose(ConvReference.FilterGrad<double>(ToDouble(x), ToDouble(dy), p, 3, 3), dw, 1e-5, 4e-6 * filterScale, "filter gradient");
        RefEval.AssertClose(Conv.FilterGrad(x, dy, p, 3, 3, algorithm: ConvAlgorithm.Im2Col), dw, 1e-5, 4e-6 * filterScale, "filter gradient vs im2col");
    }

    [Fact]
    public void WinogradWritesEveryOutputOfAReusedBuffer()
    {
        // Compiled steps hand kernels buffers that hold the last step's values.
        var rng = new Random(3);
        var p = new ConvParams([1, 1], [1, 1], [1, 1], 1);
        var x = RefEval.RandomFloat(rng, [2, 16, 11, 11]);
        var wt = RefEval.RandomFloat(rng, [16, 16, 3, 3]);
        var into = NDArray.Zeros(DType.Float32, 2, 16, 11, 11);
        Array.Fill(into.As<float>(), float.NaN);
        var y = Conv.Forward(x, wt, p, into, ConvAlgorithm.Winograd);
        RefEval.AssertClose(ConvReference.Forward<double>(ToDouble(x), ToDouble(wt), p), y, 1e-5, 1e-5, "forward into a dirty buffer");
        var dw = NDArray.Zeros(DType.Float32, 16, 16, 3, 3);
        Array.Fill(dw.As<float>(), float.NaN);
        Conv.FilterGrad(x, y, p, 3, 3, dw, ConvAlgorithm.Winograd);
        RefEval.AssertClose(ConvReference.FilterGrad<double>(ToDouble(x), ToDouble(y), p, 3, 3), dw, 1e-5, 1e-3, "filter gradient into a dirty buffer");
    }

    [Fact]
    public void WeightsChangedInPlaceAreSeenByTheNextCall()
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
            var y = Conv.Forward(x, wt, p, algorithm: ConvAlgorithm.Winograd);
            var dx = Conv.Transposed(dy, wt, p, noPad, algorithm: ConvAlgorithm.Winograd);
            RefEval.AssertClose(ConvReference.Forward<double>(ToDouble(x), ToDouble(wt), p), y, 1e-5, 1e-5, $"forward, step {step}");
            RefEval.AssertClose(ConvReference.Transposed<double>(ToDouble(dy), ToDouble(wt), p, noPad), dx, 1e-5, 1e-5, $"data gradient, step {step}");
            wt.As<float>()[step * 100 + 7] += 0.5f; // one weight moves, as after an update
        }
    }

    [Fact]
    public void AskingForWinogradWhereItDoesNotApplySaysWhy()
    {
        var p = new ConvParams([2, 2], [0, 0], [1, 1], 1);
        var x = NDArray.Zeros(DType.Float32, 1, 16, 8, 8);
        var wt = NDArray.Zeros(DType.Float32, 16, 16, 3, 3);
        var e = Assert.Throws<ArgumentException>(() => Conv.Forward(x, wt, p, algorithm: ConvAlgorithm.Winograd));
        Assert.Contains("stride 2x2", e.Message);
    }

    private static NDArray ToDouble(NDArray a) => NDArray.From(a.ToDoubleArray(), a.Shape);
}
