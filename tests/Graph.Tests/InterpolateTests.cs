using static GraphNet.Tests.GradCheck;

namespace GraphNet.Tests;

/// <summary>
/// F.Interpolate against PyTorch's upsample_bilinear2d and upsample_nearest2d written per output
/// pixel (aten/src/ATen/native/UpSample.h: area_pixel_compute_source_index), and finite differences.
/// </summary>
public class InterpolateTests
{
    // PyTorch: align_corners ? dst·(in−1)/(out−1) : max(0, scale·(dst + 0.5) − 0.5), scale = in/out or 1/factor.
    private static double Source(int dst, int inSize, int outSize, bool alignCorners, double? factor)
    {
        if (alignCorners) return outSize > 1 ? dst * (inSize - 1.0) / (outSize - 1) : 0;
        double scale = factor is { } f ? 1 / f : (double)inSize / outSize;
        return Math.Max(0, scale * (dst + 0.5) - 0.5);
    }

    private static double[] BilinearByPixel(NDArray x, int oh, int ow, bool alignCorners, double? factor)
    {
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        var y = new double[n * c * oh * ow];
        for (int p = 0; p < n * c; p++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    double sy = Source(i, h, oh, alignCorners, factor), sx = Source(j, w, ow, alignCorners, factor);
                    int y0 = (int)sy, x0 = (int)sx, y1 = y0 + (y0 < h - 1 ? 1 : 0), x1 = x0 + (x0 < w - 1 ? 1 : 0);
                    double ly = sy - y0, lx = sx - x0;
                    double At(int r, int col) => x.GetDouble((p * h + r) * w + col);
                    y[(p * oh + i) * ow + j] = (1 - ly) * ((1 - lx) * At(y0, x0) + lx * At(y0, x1)) + ly * ((1 - lx) * At(y1, x0) + lx * At(y1, x1));
                }
        return y;
    }

    [Theory]
    [InlineData(3, 4, 7, 9, false)] // a stretch by odd factors
    [InlineData(3, 4, 7, 9, true)]
    [InlineData(6, 5, 4, 2, false)] // a shrink
    [InlineData(6, 5, 4, 2, true)]
    [InlineData(1, 3, 1, 1, true)] // one output pixel
    public void BilinearReadsEachPixelWherePyTorchDoes(int h, int w, int oh, int ow, bool alignCorners)
    {
        var g = new Graph();
        var xv = RefEval.RandomDouble(new Random(h * 10 + w), [2, 3, h, w], -1, 1);
        var x = g.Placeholder(DType.Float64, [2, 3, h, w], "x");
        var feeds = new Dictionary<Tensor, NDArray> { [x] = xv };
        var y = RefEval.Run([F.Interpolate(x, (oh, ow), mode: "bilinear", alignCorners: alignCorners)], feeds)[0];
        Assert.Equal(new[] { 2, 3, oh, ow }, y.Shape);
        var want = BilinearByPixel(xv, oh, ow, alignCorners, null);
        for (int i = 0; i < want.Length; i++) Assert.Equal(want[i], y.GetDouble(i), 12);
    }

    [Fact]
    public void AScaleFactorReadsPositionsByTheFactorAndNearestCopiesTheFloorSource()
    {
        var g = new Graph();
        var xv = RefEval.RandomDouble(new Random(5), [1, 2, 5, 3], -1, 1);
        var x = g.Placeholder(DType.Float64, [1, 2, 5, 3], "x");
        var r = RefEval.Run([F.Interpolate(x, scaleFactor: 1.5, mode: "bilinear"), F.Interpolate(x, (4, 7)), F.Interpolate(x, scaleFactor: 2)],
            new Dictionary<Tensor, NDArray> { [x] = xv });
        Assert.Equal(new[] { 1, 2, 7, 4 }, r[0].Shape); // floor(5·1.5), floor(3·1.5)
        var want = BilinearByPixel(xv, 7, 4, false, 1.5);
        for (int i = 0; i < want.Length; i++) Assert.Equal(want[i], r[0].GetDouble(i), 12);
        for (int p = 0; p < 2; p++)
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 7; j++) // nearest: source floor(dst · in/out)
                    Assert.Equal(xv.GetDouble((p * 5 + i * 5 / 4) * 3 + j * 3 / 7), r[1].GetDouble((p * 4 + i) * 7 + j));
        Assert.Equal(new[] { 1, 2, 10, 6 }, r[2].Shape);
        Assert.Equal(xv.GetDouble(4), r[2].GetDouble(2 * 6 + 2)); // (1, 1) of the source at (2, 2)
    }

    [Fact]
    public void InterpolationGradientsMatchFiniteDifferences()
    {
        Check((g, p) => F.Square(F.Interpolate(p[0], (5, 7), mode: "bilinear")), new Input([1, 2, 3, 4]));
        Check((g, p) => F.Square(F.Interpolate(p[0], (2, 3), mode: "bilinear", alignCorners: true)), new Input([2, 1, 4, 5]));
        Check((g, p) => F.Square(F.Interpolate(p[0], (5, 3))), new Input([1, 1, 3, 2]));
    }

    [Fact]
    public void BadInterpolationArgumentsNameWhatIsWrong()
    {
        var x = new Graph().Placeholder([-1, 1, 4, 4]);
        Assert.Contains("exactly one of size and scaleFactor", Assert.Throws<GraphException>(() => F.Interpolate(x)).Message);
        Assert.Contains("mode 'bicubic'", Assert.Throws<GraphException>(() => F.Interpolate(x, (2, 2), mode: "bicubic")).Message);
        Assert.Contains("must be [N, C, H, W]", Assert.Throws<GraphException>(() => F.Interpolate(F.Flatten(x), (2, 2))).Message);
        Assert.Equal(new[] { -1, 1, 8, 8 }, new Nn.Upsample(scaleFactor: 2, mode: "bilinear").Forward(x).Shape.ToArray());
    }
}
