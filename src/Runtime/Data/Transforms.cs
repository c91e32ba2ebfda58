namespace GraphNet.Runtime.Data;

/// <summary>
/// torchvision's image transforms on a batch of images [N, C, H, W] (or one image [C, H, W]),
/// float32 or float64, returning new arrays. The random ones draw from the <see cref="Random"/>
/// given, one draw per image, so a seeded generator repeats them.
/// </summary>
public static class Transforms
{
    /// <summary>
    /// Resize to <paramref name="height"/> x <paramref name="width"/> by bilinear resampling, antialiased
    /// when shrinking as torchvision's <c>Resize</c> (and PIL) are by default.
    /// </summary>
    public static NDArray Resize(NDArray images, int height, int width, bool antialias = true)
    {
        var (x, n, c, h, w) = Batch(images, nameof(Resize));
        var mh = Resampling.Linear(h, height, antialias: antialias);
        var mw = Resampling.Linear(w, width, antialias: antialias);
        var y = NDArray.Zeros(images.DType, [n, c, height, width]);
        var rows = new double[height * w];
        for (int p = 0; p < n * c; p++)
        {
            Array.Clear(rows);
            for (int i = 0; i < height; i++)
                for (int r = 0; r < h; r++)
                    if (mh[i, r] != 0)
                        for (int col = 0; col < w; col++) rows[i * w + col] += mh[i, r] * x.GetDouble((p * h + r) * w + col);
            for (int i = 0; i < height; i++)
                for (int j = 0; j < width; j++)
                {
                    double v = 0;
                    for (int col = 0; col < w; col++) v += mw[j, col] * rows[i * w + col];
                    y.SetDouble((p * height + i) * width + j, v);
                }
        }
        return Shaped(y, images);
    }

    /// <summary>torchvision's <c>Resize(size)</c> with one number: the shorter edge to <paramref name="size"/>, the aspect kept.</summary>
    public static NDArray Resize(NDArray images, int size, bool antialias = true)
    {
        var (_, _, _, h, w) = Batch(images, nameof(Resize));
        return h <= w ? Resize(images, size, (int)((long)size * w / h), antialias) : Resize(images, (int)((long)size * h / w), size, antialias);
    }

    /// <summary>(x − mean[c]) / std[c] per channel, as <c>Normalize</c>; one value serves every channel.</summary>
    public static NDArray Normalize(NDArray images, double[] mean, double[] std)
    {
        var (x, n, c, h, w) = Batch(images, nameof(Normalize));
        if (mean.Length is not 1 && mean.Length != c || std.Length != mean.Length)
            throw new ArgumentException($"Normalize: {mean.Length} means and {std.Length} deviations for {c} channels");
        if (std.Any(s => s == 0)) throw new ArgumentException("Normalize: a standard deviation is 0");
        var y = NDArray.Zeros(images.DType, x.Shape);
        for (int i = 0; i < y.Size; i++)
        {
            int ch = mean.Length == 1 ? 0 : i / (h * w) % c;
            y.SetDouble(i, (x.GetDouble(i) - mean[ch]) / std[ch]);
        }
        return Shaped(y, images);
    }

    /// <summary>The centre <paramref name="height"/> x <paramref name="width"/>, offset round((H − h)/2) as torchvision.</summary>
    public static NDArray CenterCrop(NDArray images, int height, int width)
    {
        var (x, n, _, h, w) = Batch(images, nameof(CenterCrop));
        if (height > h || width > w) throw new ArgumentException($"CenterCrop: {height}x{width} is larger than the {h}x{w} images");
        int top = (int)Math.Round((h - height) / 2.0, MidpointRounding.ToEven), left = (int)Math.Round((w - width) / 2.0, MidpointRounding.ToEven);
        return Shaped(Crop(x, Enumerable.Repeat((top, left), n).ToArray(), height, width, 0), images);
    }

    /// <summary>
    /// A <paramref name="height"/> x <paramref name="width"/> window at a random place of each image,
    /// after zero-padding it by <paramref name="padding"/> on every side, as <c>RandomCrop(size, padding)</c>.
    /// </summary>
    public static NDArray RandomCrop(NDArray images, int height, int width, Random random, int padding = 0)
    {
        var (x, n, _, h, w) = Batch(images, nameof(RandomCrop));
        if (height > h + 2 * padding || width > w + 2 * padding)
            throw new ArgumentException($"RandomCrop: {height}x{width} is larger than the padded {h + 2 * padding}x{w + 2 * padding} images");
        var at = new (int, int)[n];
        for (int k = 0; k < n; k++) at[k] = (random.Next(h + 2 * padding - height + 1), random.Next(w + 2 * padding - width + 1));
        return Shaped(Crop(x, at, height, width, padding), images);
    }

    /// <summary>Each image mirrored left to right with probability <paramref name="p"/>, as <c>RandomHorizontalFlip</c>.</summary>
    public static NDArray RandomHorizontalFlip(NDArray images, Random random, double p = 0.5)
    {
        var (x, n, c, h, w) = Batch(images, nameof(RandomHorizontalFlip));
        var y = x.Clone();
        for (int k = 0; k < n; k++)
        {
            if (random.NextDouble() >= p) continue;
            for (int r = 0; r < c * h; r++)
                for (int j = 0; j < w; j++) y.SetDouble((k * c * h + r) * w + j, x.GetDouble((k * c * h + r) * w + w - 1 - j));
        }
        return Shaped(y, images);
    }

    // (top, left) in the image padded by `padding`; outside the image reads 0.
    private static NDArray Crop(NDArray x, (int Top, int Left)[] at, int height, int width, int padding)
    {
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        var y = NDArray.Zeros(x.DType, [n, c, height, width]);
        for (int k = 0; k < n; k++)
            for (int ch = 0; ch < c; ch++)
                for (int i = 0; i < height; i++)
                    for (int j = 0; j < width; j++)
                    {
                        int r = at[k].Top + i - padding, col = at[k].Left + j - padding;
                        if (r >= 0 && r < h && col >= 0 && col < w)
                            y.SetDouble(((k * c + ch) * height + i) * width + j, x.GetDouble(((k * c + ch) * h + r) * w + col));
                    }
        return y;
    }

    private static (NDArray X, int N, int C, int H, int W) Batch(NDArray images, string name)
    {
        if (images.DType is not (DType.Float32 or DType.Float64))
            throw new ArgumentException($"{name}: images must be float32 or float64, got {images.DType.ShortName()}");
        var x = images.Shape.Length switch
        {
            4 => images,
            3 => images.Reshape([1, .. images.Shape]),
            _ => throw new ArgumentException($"{name}: images must be [N, C, H, W] or [C, H, W], got {images.ShapeString}"),
        };
        return (x, x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]);
    }

    // One image in, one image out.
    private static NDArray Shaped(NDArray y, NDArray input) => input.Shape.Length == 3 ? y.Reshape(y.Shape[1..]) : y;
}
