namespace GraphNet.Runtime.Data;

/// <summary>Images [count, 1, 28, 28] as normalized float32 and labels as int64.</summary>
public sealed class ImageDataset
{
    public required float[] Images { get; init; }
    public required long[] Labels { get; init; }
    public required int Channels { get; init; }
    public required int Height { get; init; }
    public required int Width { get; init; }
    public int Count => Labels.Length;
    public int ImageSize => Channels * Height * Width;

    /// <summary>The first <paramref name="n"/> samples.</summary>
    public ImageDataset Take(int n) => n >= Count ? this : new ImageDataset
    {
        Images = Images.AsSpan(0, n * ImageSize).ToArray(), Labels = Labels.AsSpan(0, n).ToArray(),
        Channels = Channels, Height = Height, Width = Width,
    };
}

/// <summary>MNIST and Fashion-MNIST from IDX files (gzip or raw).</summary>
public static class Mnist
{
    public const string DebianFashionMnist = "/usr/share/datasets/fashion-mnist";

    /// <summary>
    /// The mean and standard deviation of the training images' pixels (in [0,1]); the book's
    /// constants (0.1307, 0.3081) are exactly these for MNIST. Normalizing with the training
    /// split's own statistics makes Fashion-MNIST (0.2860, 0.3530) work the same way.
    /// </summary>
    public static (float Mean, float Std) TrainStatistics(string dir)
    {
        lock (StatsCache)
        {
            if (StatsCache.TryGetValue(dir, out var s)) return s;
            var images = Idx.Read(FindFile(dir, "train-images-idx3-ubyte") ?? throw new FileNotFoundException($"train-images-idx3-ubyte[.gz] is missing in {dir}"));
            double sum = 0, sq = 0;
            foreach (var b in images.Data) { double v = b / 255.0; sum += v; sq += v * v; }
            double mean = sum / images.Data.Length, std = Math.Sqrt(sq / images.Data.Length - mean * mean);
            return StatsCache[dir] = ((float)mean, (float)std);
        }
    }

    private static readonly Dictionary<string, (float, float)> StatsCache = [];

    /// <summary>
    /// Finds the data: an explicit directory, else $GRAPHNET_DATA, else Debian's Fashion-MNIST
    /// package. The error says how to get it.
    /// </summary>
    public static string FindDirectory(string? explicitDir = null)
    {
        var candidates = new List<(string Dir, string From)>();
        if (explicitDir is not null) candidates.Add((explicitDir, "--data"));
        else
        {
            if (Environment.GetEnvironmentVariable("GRAPHNET_DATA") is { Length: > 0 } env) candidates.Add((env, "$GRAPHNET_DATA"));
            candidates.Add((DebianFashionMnist, "the Debian package dataset-fashion-mnist"));
        }
        foreach (var (dir, _) in candidates)
            if (FindFile(dir, "train-images-idx3-ubyte") is not null) return dir;
        var tried = string.Join("; ", candidates.Select(c => $"{c.Dir} ({c.From})"));
        throw new FileNotFoundException(
            $"MNIST-format data not found. Looked in: {tried}. Install Fashion-MNIST with " +
            "'sudo apt-get install dataset-fashion-mnist', or pass --data DIR (or set GRAPHNET_DATA) to a folder holding " +
            "train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz].");
    }

    private static string? FindFile(string dir, string stem)
    {
        foreach (var name in new[] { stem + ".gz", stem, stem.Replace("-idx", ".idx") })
            if (File.Exists(Path.Combine(dir, name))) return Path.Combine(dir, name);
        return null;
    }

    /// <summary>
    /// Loads the training ("train") or test ("t10k") split, normalized as (x - mean) / std with
    /// the given statistics, by default the training split's (<see cref="TrainStatistics"/>).
    /// </summary>
    public static ImageDataset Load(string dir, bool train, float? mean = null, float? std = null)
    {
        if (mean is null || std is null) (mean, std) = TrainStatistics(dir);
        string prefix = train ? "train" : "t10k";
        var imgPath = FindFile(dir, $"{prefix}-images-idx3-ubyte") ?? throw new FileNotFoundException($"{prefix}-images-idx3-ubyte[.gz] is missing in {dir}");
        var lblPath = FindFile(dir, $"{prefix}-labels-idx1-ubyte") ?? throw new FileNotFoundException($"{prefix}-labels-idx1-ubyte[.gz] is missing in {dir}");
        var images = Idx.Read(imgPath);
        var labels = Idx.Read(lblPath);
        if (images.Shape.Length != 3) throw new InvalidDataException($"'{imgPath}' should hold [count, rows, cols] images, has shape [{string.Join(",", images.Shape)}]");
        if (labels.Shape.Length != 1) throw new InvalidDataException($"'{lblPath}' should hold [count] labels, has shape [{string.Join(",", labels.Shape)}]");
        if (labels.Shape[0] != images.Shape[0]) throw new InvalidDataException($"'{imgPath}' has {images.Shape[0]} images but '{lblPath}' has {labels.Shape[0]} labels");
        var x = new float[images.Data.Length];
        float scale = 1f / 255f / std.Value, shift = mean.Value / std.Value;
        for (int i = 0; i < x.Length; i++) x[i] = images.Data[i] * scale - shift;
        var y = new long[labels.Data.Length];
        for (int i = 0; i < y.Length; i++)
        {
            if (labels.Data[i] > 9) throw new InvalidDataException($"'{lblPath}': label {labels.Data[i]} at index {i} is not a class 0-9");
            y[i] = labels.Data[i];
        }
        return new ImageDataset { Images = x, Labels = y, Channels = 1, Height = images.Shape[1], Width = images.Shape[2] };
    }
}
