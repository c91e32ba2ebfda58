using GraphNet.Runtime.Data;

namespace GraphNet.Runtime.Tests;

/// <summary>Image transforms against torchvision's definitions worked by hand.</summary>
public class TransformTests
{
    private static NDArray Ramp(params int[] shape) =>
        NDArray.From(Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(i => (float)i).ToArray(), shape);

    [Fact]
    public void ResizeStretchesBilinearlyAndShrinksWithPilsTriangleFilter()
    {
        // A row [a b c d] shrunk to 2 with antialiasing: the triangle filter of radius 2 centred at 1
        // and 3 weighs (0.75, 0.75, 0.25) and (0.25, 0.75, 0.75), normalized: (3a + 3b + c)/7, (b + 3c + 3d)/7.
        var row = NDArray.From([1f, 5f, 2f, 8f], 1, 1, 1, 4);
        var shrunk = Transforms.Resize(row, 1, 2).As<float>();
        Assert.Equal((3 * 1 + 3 * 5 + 2) / 7.0, shrunk[0], 5);
        Assert.Equal((5 + 3 * 2 + 3 * 8) / 7.0, shrunk[1], 5);
        // Without it, PyTorch's bilinear reads sources 0.5 and 2.5.
        Assert.Equal(new float[] { 3f, 5f }, Transforms.Resize(row, 1, 2, antialias: false).As<float>());
        // A stretch 2 -> 4 reads sources max(0, (i + 0.5)/2 − 0.5) = 0, 0.25, 0.75, 1 (clamped): a, a+(b−a)/4, ...
        var two = NDArray.From([2f, 6f], 1, 1, 1, 2);
        Assert.Equal(new float[] { 2f, 3f, 5f, 6f }, Transforms.Resize(two, 1, 4).As<float>());
        // One image [C, H, W] in, one out; the shorter edge goes to the size given.
        Assert.Equal(new[] { 3, 64, 128 }, Transforms.Resize(Ramp(3, 28, 56), 64).Shape);
        Assert.Equal(new[] { 1, 1, 64, 64 }, Transforms.Resize(Ramp(1, 1, 28, 28), 64).Shape);
    }

    [Fact]
    public void NormalizeAndCenterCropFollowTorchvision()
    {
        var x = Ramp(1, 2, 2, 2); // channel 0: 0..3, channel 1: 4..7
        var y = Transforms.Normalize(x, [1, 4], [2, 0.5]).As<float>();
        Assert.Equal(new float[] { -0.5f, 0, 0.5f, 1, 0, 2, 4, 6 }, y);
        // A 2x2 centre of 5x4: top round(1.5) = 2 (half to even, as Python's round), left 1.
        var c = Transforms.CenterCrop(Ramp(1, 1, 5, 4), 2, 2).As<float>();
        Assert.Equal(new float[] { 9, 10, 13, 14 }, c);
    }

    [Fact]
    public void RandomCropTakesAWindowOfThePaddedImageAndFlipMirrors()
    {
        var x = Ramp(20, 1, 3, 3);
        var crops = Transforms.RandomCrop(x, 3, 3, new Random(1), padding: 1);
        var seen = new HashSet<(int, int)>();
        for (int k = 0; k < 20; k++)
        {
            // Find the offset: every element is the padded image's at (top + i − 1, left + j − 1), zero outside.
            var found = Enumerable.Range(0, 9).Select(o => (Top: o / 3, Left: o % 3)).Where(o =>
                Enumerable.Range(0, 9).All(e =>
                {
                    int r = o.Top + e / 3 - 1, col = o.Left + e % 3 - 1;
                    double want = r is >= 0 and < 3 && col is >= 0 and < 3 ? k * 9 + r * 3 + col : 0;
                    return crops.GetDouble(k * 9 + e) == want;
                })).ToList();
            Assert.NotEmpty(found);
            seen.Add(found[0]);
        }
        Assert.True(seen.Count > 3, "20 crops should land in more than 3 of the 9 places");
        Assert.Equal(crops.As<float>(), Transforms.RandomCrop(x, 3, 3, new Random(1), padding: 1).As<float>());

        var flipped = Transforms.RandomHorizontalFlip(Ramp(1, 2, 1, 3), new Random(2), p: 1).As<float>();
        Assert.Equal(new float[] { 2, 1, 0, 5, 4, 3 }, flipped);
        Assert.Equal(Ramp(1, 2, 1, 3).As<float>(), Transforms.RandomHorizontalFlip(Ramp(1, 2, 1, 3), new Random(2), p: 0).As<float>());
        Assert.Contains("[N, C, H, W] or [C, H, W]", Assert.Throws<ArgumentException>(() => Transforms.Resize(Ramp(4, 4), 2, 2)).Message);
    }
}
