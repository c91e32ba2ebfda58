using GraphNet.Runtime.Kernels;

namespace GraphNet.Runtime.Tests;

/// <summary>The direct few-channel convolution and its filter gradient against the float64 reference loops.</summary>
public class DirectConvTests
{
    [Theory]
    // n, c, cout, h, w, k, padding
    [InlineData(3, 1, 32, 28, 28, 3, 0)]   // the book's conv1: 26 columns out, a whole vector and a masked one
    [InlineData(2, 3, 5, 9, 16, 3, 1)]     // RGB-like, 16 columns exactly, channels not a multiple of four
    [InlineData(1, 4, 6, 7, 40, 5, 2)]     // 5×5 with padding 2, three vectors a row
    [InlineData(2, 2, 3, 4, 3, 1, 0)]      // 1×1 filters, rows shorter than a vector
    public void DirectConvolutionMatchesTheFloat64Reference(int n, int c, int cout, int h, int w, int k, int padding)
    {
        var rng = new Random(n + 10 * c + h);
        var p = new ConvParams([1, 1], [padding, padding], [1, 1], 1);
        Assert.True(DirectConv.Applies(c, k, k, p));
        var x = RefEval.RandomFloat(rng, [n, c, h, w]);
        var wt = RefEval.RandomFloat(rng, [cout, c, k, k]);
        var y = NDArray.Zeros(DType.Float32, n, cout, h + 2 * padding - k + 1, w + 2 * padding - k + 1);
        Array.Fill(y.As<float>(), float.NaN); // a reused buffer: every element must be written
        Conv.Forward(x, wt, p, y, ConvAlgorithm.Direct);
        RefEval.AssertClose(ConvReference.Forward<double>(ToDouble(x), ToDouble(wt), p), y, 1e-5, 1e-5, "forward");

        var dy = RefEval.RandomFloat(rng, y.Shape);
        var dw = NDArray.Zeros(DType.Float32, cout, c, k, k);
        Array.Fill(dw.As<float>(), float.NaN);
        Conv.FilterGrad(x, dy, p, k, k, dw, ConvAlgorithm.Direct);
        RefEval.AssertClose(ConvReference.FilterGrad<double>(ToDouble(x), ToDouble(dy), p, k, k), dw, 1e-5, 1e-4, "filter gradient");
        RefEval.AssertClose(Conv.FilterGrad(x, dy, p, k, k, algorithm: ConvAlgorithm.Im2Col), dw, 1e-4, 1e-4, "filter gradient vs im2col");
    }

    [Fact]
    public void FilterGradientIgnoresInputsOutsideEveryWindow()
    {
        // One column out of a one-column input padded by 1: each row's vector of 16 lanes runs on into the
        // next rows, where a NaN and an infinity lie. Filter taps in the padding columns never see them.
        var rng = new Random(3);
        var p = new ConvParams([1, 1], [1, 1], [1, 1], 1);
        var x = RefEval.RandomFloat(rng, [2, 2, 5, 1]);
        x.As<float>()[2] = float.NaN;
        x.As<float>()[13] = float.PositiveInfinity;
        var dy = RefEval.RandomFloat(rng, [2, 3, 5, 1]);
        var expected = ConvReference.FilterGrad<double>(ToDouble(x), ToDouble(dy), p, 3, 3);
        Assert.Contains(expected.ToDoubleArray(), double.IsFinite);
        Assert.Contains(expected.ToDoubleArray(), double.IsNaN);
        foreach (var algorithm in new[] { ConvAlgorithm.Direct, ConvAlgorithm.Im2Col })
            RefEval.AssertClose(expected, Conv.FilterGrad(x, dy, p, 3, 3, algorithm: algorithm), 1e-5, 1e-5, $"{algorithm}");
    }

    [Fact]
    public void AskingForTheDirectConvolutionWhereItDoesNotApplySaysWhy()
    {
        var p = new ConvParams([1, 1], [0, 0], [1, 1], 1);
        var e = Assert.Throws<ArgumentException>(() => Conv.Forward(NDArray.Zeros(DType.Float32, 1, 8, 5, 5), NDArray.Zeros(DType.Float32, 2, 8, 3, 3), p, algorithm: ConvAlgorithm.Direct));
        Assert.Contains("8 input channels", e.Message);
    }

    private static NDArray ToDouble(NDArray a) => NDArray.From(a.ToDoubleArray(), a.Shape);
}
