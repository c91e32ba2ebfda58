using System.Buffers.Binary;
using System.IO.Compression;

namespace GraphNet.Runtime.Data;

/// <summary>
/// Writes a batch of images [N, C, H, W] (C 1 or 3, values in [0, 1]) as one PNG grid, as
/// torchvision.utils.save_image does: <c>nrow</c> images a row, <c>padding</c> pixels of
/// <c>padValue</c> around each, grayscale repeated to RGB, pixels rounded as x·255 + 0.5 and clamped.
/// The write is atomic: a failed save leaves the old file intact.
/// </summary>
public static class ImageGrid
{
    public static void Save(NDArray images, string path, int nrow = 8, int padding = 2, bool normalize = false, double padValue = 0)
    {
        var (rgb, width, height) = Render(images, nrow, padding, normalize, padValue);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        AtomicFile.WriteAllBytes(path, Png.Encode(rgb, width, height));
    }

    /// <summary>The grid as RGB bytes, row by row (torchvision's make_grid, then its 8-bit conversion).</summary>
    public static (byte[] Rgb, int Width, int Height) Render(NDArray images, int nrow = 8, int padding = 2, bool normalize = false,
        double padValue = 0)
    {
        if (images.Shape.Length == 3) images = images.Reshape([1, .. images.Shape]);
        if (images.Shape.Length != 4 || images.Shape[1] is not (1 or 3))
            throw new ArgumentException($"an image grid needs images [N, 1 or 3, H, W], got {images.ShapeString}");
        if (nrow < 1 || padding < 0) throw new ArgumentException($"nrow {nrow} must be positive and padding {padding} not negative");
        int n = images.Shape[0], c = images.Shape[1], h = images.Shape[2], w = images.Shape[3];
        var x = new double[images.Size];
        for (int i = 0; i < x.Length; i++) x[i] = images.GetDouble(i);
        if (normalize && x.Length > 0)
        {
            // make_grid(normalize=True): min-max over the whole batch to [0, 1].
            double lo = x.Min(), hi = x.Max(), scale = 1 / Math.Max(hi - lo, 1e-5);
            for (int i = 0; i < x.Length; i++) x[i] = (x[i] - lo) * scale;
        }
        int cols = Math.Min(nrow, n), rows = (n + cols - 1) / cols;
        int width = cols * (w + padding) + padding, height = rows * (h + padding) + padding;
        var rgb = new byte[width * height * 3];
        Array.Fill(rgb, ToByte(padValue));
        for (int k = 0; k < n; k++)
        {
            int top = k / cols * (h + padding) + padding, left = k % cols * (w + padding) + padding;
            for (int y = 0; y < h; y++)
                for (int xx = 0; xx < w; xx++)
                    for (int ch = 0; ch < 3; ch++)
                        rgb[((top + y) * width + left + xx) * 3 + ch] = ToByte(x[((k * c + (c == 1 ? 0 : ch)) * h + y) * w + xx]);
        }
        return (rgb, width, height);
    }

    private static byte ToByte(double v) => double.IsNaN(v) ? (byte)0 : (byte)Math.Clamp(Math.Floor(v * 255 + 0.5), 0, 255);
}

/// <summary>A minimal PNG encoder: 8-bit RGB, no interlacing, filter 0 on every row.</summary>
public static class Png
{
    private static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];

    public static byte[] Encode(byte[] rgb, int width, int height)
    {
        if (rgb.Length != width * height * 3) throw new ArgumentException($"{rgb.Length} bytes are not {width}x{height} RGB pixels");
        using var png = new MemoryStream();
        png.Write(Signature);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; header[9] = 2; // bit depth 8, colour type 2 (RGB); compression, filter, interlace 0
        Chunk(png, "IHDR", header);
        using (var raw = new MemoryStream())
        {
            using (var z = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
                for (int y = 0; y < height; y++)
                {
                    z.WriteByte(0);
                    z.Write(rgb, y * width * 3, width * 3);
                }
            Chunk(png, "IDAT", raw.ToArray());
        }
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        s.Write(word);
        var typed = new byte[4 + data.Length];
        for (int i = 0; i < 4; i++) typed[i] = (byte)type[i];
        data.CopyTo(typed, 4);
        s.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(typed));
        s.Write(word);
    }

    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    /// <summary>The CRC-32 of PNG (and zlib, gzip): reflected polynomial 0xEDB88320.</summary>
    public static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint c = 0xFFFFFFFFu;
        foreach (var b in bytes) c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFu;
    }
}
