using System.Buffers.Binary;
using System.IO.Compression;
using GraphNet.Runtime.Data;

namespace GraphNet.Runtime.Tests;

/// <summary>The PNG grid writer against torchvision's make_grid/save_image layout and the PNG specification.</summary>
public class ImageGridTests
{
    [Fact]
    public void TheGridPlacesEachImageAsMakeGridDoesAndRoundsAsSaveImage()
    {
        // Three 2x2 grayscale images, two a row, padding 1: a 7x7 grid, the third image alone on row two.
        var x = NDArray.From([0f, 0.5f, 1f, 1.2f, -0.1f, 0.25f, 0.75f, 0.002f, 0.3f, 0.3f, 0.3f, 0.3f], 3, 1, 2, 2);
        var (rgb, w, h) = ImageGrid.Render(x, nrow: 2, padding: 1, padValue: 1);
        Assert.Equal((7, 7), (w, h));
        byte At(int row, int col) { Assert.Equal(rgb[(row * w + col) * 3], rgb[(row * w + col) * 3 + 2]); return rgb[(row * w + col) * 3]; }
        // Image k sits at top = (k / 2) * 3 + 1, left = (k % 2) * 3 + 1; the rest is padding.
        Assert.Equal(new byte[] { 0, 128, 255, 255 }, new[] { At(1, 1), At(1, 2), At(2, 1), At(2, 2) }); // floor(v·255 + 0.5), clamped
        Assert.Equal(new byte[] { 0, 64, 191, 1 }, new[] { At(1, 4), At(1, 5), At(2, 4), At(2, 5) });
        Assert.Equal(77, At(4, 1));
        Assert.Equal(255, At(0, 0)); Assert.Equal(255, At(3, 3)); Assert.Equal(255, At(5, 5)); // padding and the empty slot
    }

    [Fact]
    public void ThePngHasValidChunksAndItsPixelsInflateBack()
    {
        Assert.Equal(0xCBF43926u, Png.Crc32("123456789"u8)); // CRC-32's published check value
        var pixels = Enumerable.Range(0, 5 * 3 * 3).Select(i => (byte)(i * 7)).ToArray();
        var png = Png.Encode(pixels, 5, 3);
        Assert.Equal(new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 }, png[..8]);
        var chunks = new List<(string Type, byte[] Data)>();
        for (int at = 8; at < png.Length;)
        {
            int len = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            string type = System.Text.Encoding.ASCII.GetString(png, at + 4, 4);
            Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at + 8 + len)), Png.Crc32(png.AsSpan(at + 4, 4 + len)));
            chunks.Add((type, png[(at + 8)..(at + 8 + len)]));
            at += 12 + len;
        }
        Assert.Equal(["IHDR", "IDAT", "IEND"], chunks.Select(c => c.Type));
        Assert.Equal(0xAE426082u, BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(png.Length - 4))); // every PNG's IEND CRC
        Assert.Equal(new byte[] { 0, 0, 0, 5, 0, 0, 0, 3, 8, 2, 0, 0, 0 }, chunks[0].Data);
        using var z = new ZLibStream(new MemoryStream(chunks[1].Data), CompressionMode.Decompress);
        var raw = new MemoryStream();
        z.CopyTo(raw);
        var rows = raw.ToArray();
        Assert.Equal(3 * (1 + 15), rows.Length);
        for (int y = 0; y < 3; y++)
        {
            Assert.Equal(0, rows[y * 16]); // filter type None
            Assert.Equal(pixels[(y * 15)..(y * 15 + 15)], rows[(y * 16 + 1)..(y * 16 + 16)]);
        }
    }

    [Fact]
    public void SavingMakesTheFolderAndABadBatchLeavesTheOldFile()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"graphnet-grid-{Guid.NewGuid():N}");
        try
        {
            var path = Path.Combine(dir, "results", "sample.png");
            ImageGrid.Save(NDArray.From(new float[2 * 3 * 4 * 4], 2, 3, 4, 4), path);
            var before = File.ReadAllBytes(path);
            var e = Assert.Throws<ArgumentException>(() => ImageGrid.Save(NDArray.From(new float[2 * 2 * 4 * 4], 2, 2, 4, 4), path));
            Assert.Contains("[N, 1 or 3, H, W]", e.Message);
            Assert.Equal(before, File.ReadAllBytes(path));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}
