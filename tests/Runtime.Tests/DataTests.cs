using System.IO.Compression;
using GraphNet.Runtime.Data;

namespace GraphNet.Runtime.Tests;

public class DataTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("graphnet-data-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    private static byte[] IdxBytes(int[] shape, byte[] data)
    {
        var ms = new MemoryStream();
        ms.Write([0, 0, 8, (byte)shape.Length]);
        foreach (var d in shape) { var b = BitConverter.GetBytes(d); Array.Reverse(b); ms.Write(b); }
        ms.Write(data);
        return ms.ToArray();
    }

    private void WriteSplit(string prefix, int count, bool gzip)
    {
        var images = Enumerable.Range(0, count * 4).Select(i => (byte)(i * 7)).ToArray();
        var labels = Enumerable.Range(0, count).Select(i => (byte)(i % 10)).ToArray();
        Write($"{prefix}-images-idx3-ubyte", IdxBytes([count, 2, 2], images), gzip);
        Write($"{prefix}-labels-idx1-ubyte", IdxBytes([count], labels), gzip);
    }

    private void Write(string name, byte[] bytes, bool gzip)
    {
        if (!gzip) { File.WriteAllBytes(Path.Combine(dir, name), bytes); return; }
        using var f = File.Create(Path.Combine(dir, name + ".gz"));
        using var gz = new GZipStream(f, CompressionLevel.Fastest);
        gz.Write(bytes);
    }

    [Theory]
    [InlineData(false), InlineData(true)]
    public void ReadsRawAndGzipIdxAndNormalizes(bool gzip)
    {
        WriteSplit("train", 5, gzip);
        var data = Mnist.Load(dir, train: true, mean: 0.5f, std: 0.25f);
        Assert.Equal(5, data.Count);
        Assert.Equal(2, data.Height);
        Assert.Equal((7 / 255f - 0.5f) / 0.25f, data.Images[1], 5);
        Assert.Equal(new long[] { 0, 1, 2, 3, 4 }, data.Labels);
    }

    [Fact]
    public void TruncatedAndCorruptFilesGetClearErrors()
    {
        var good = IdxBytes([3, 2, 2], new byte[12]);
        File.WriteAllBytes(Path.Combine(dir, "short"), good[..^2]);
        var e = Assert.Throws<InvalidDataException>(() => Idx.Read(Path.Combine(dir, "short")));
        Assert.Contains("truncated", e.Message);
        Assert.Contains("[3,2,2]", e.Message);

        var bad = (byte[])good.Clone(); bad[2] = 0x0D;
        File.WriteAllBytes(Path.Combine(dir, "float"), bad);
        Assert.Contains("only unsigned bytes", Assert.Throws<InvalidDataException>(() => Idx.Read(Path.Combine(dir, "float"))).Message);

        File.WriteAllBytes(Path.Combine(dir, "text"), "hello world"u8.ToArray());
        Assert.Contains("is not an IDX file", Assert.Throws<InvalidDataException>(() => Idx.Read(Path.Combine(dir, "text"))).Message);

        File.WriteAllBytes(Path.Combine(dir, "broken.gz"), [0x1f, 0x8b, 8, 0, 1, 2, 3]);
        Assert.Contains("corrupt or truncated gzip", Assert.Throws<InvalidDataException>(() => Idx.Read(Path.Combine(dir, "broken.gz"))).Message);
    }

    [Fact]
    public void MissingDataSaysHowToGetIt()
    {
        var e = Assert.Throws<FileNotFoundException>(() => Mnist.FindDirectory(Path.Combine(dir, "nowhere")));
        Assert.Contains("apt-get install dataset-fashion-mnist", e.Message);
        Assert.Contains("--data", e.Message);
    }

    [Fact]
    public void LoaderShufflesDeterministicallyAndKeepsThePartialBatch()
    {
        WriteSplit("train", 10, false);
        var data = Mnist.Load(dir, train: true);
        var loader = new DataLoader(data, 4, shuffle: true, seed: 3);
        var batches = loader.Epoch(0).ToList();
        Assert.Equal(new[] { 4, 4, 2 }, batches.Select(b => b.Size));
        Assert.Equal(new[] { 2, 1, 2, 2 }, batches[2].Images.Shape);
        var labels = batches.SelectMany(b => b.Labels.As<long>()).ToArray();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), labels.Order());
        Assert.Equal(loader.Order(0), new DataLoader(data, 4, true, 3).Order(0));
        Assert.NotEqual(loader.Order(0), loader.Order(1));
        Assert.NotEqual(Enumerable.Range(0, 10), loader.Order(0));
        Assert.Equal(Enumerable.Range(0, 10), new DataLoader(data, 4, false).Order(5));
    }

    [Fact]
    public void ATensorDatasetBatchesArraysOfAnyShapeAndDtypeRowByRow()
    {
        // Sample i is recognizable in every array: features 10i+k (float64), label i (int32), mask i odd (bool).
        var features = NDArray.From(Enumerable.Range(0, 30).Select(v => (double)(v / 3 * 10 + v % 3)).ToArray(), 10, 3);
        var labels = NDArray.From(Enumerable.Range(0, 10).ToArray(), 10);
        var masks = NDArray.From(Enumerable.Range(0, 40).Select(v => v / 4 % 2 == 1).ToArray(), 10, 2, 2);
        var data = new TensorDataset(features, labels, masks);
        var loader = new DataLoader(data, 4, shuffle: true, seed: 5, dropLast: true);
        var batches = loader.Batches(0).ToList();
        Assert.Equal(2, loader.BatchCount);
        Assert.Equal(2, batches.Count);
        var order = loader.Order(0);
        for (int b = 0; b < 2; b++)
        {
            Assert.Equal(new[] { 4, 3 }, batches[b][0].Shape);
            Assert.Equal(DType.Int32, batches[b][1].DType);
            Assert.Equal(new[] { 4, 2, 2 }, batches[b][2].Shape);
            for (int i = 0; i < 4; i++)
            {
                int s = order[b * 4 + i];
                Assert.Equal(s, batches[b][1].As<int>()[i]);
                Assert.Equal(10.0 * s + 2, batches[b][0].As<double>()[i * 3 + 2]);
                Assert.Equal(s % 2 == 1, batches[b][2].As<bool>()[i * 4 + 3]);
            }
        }
        Assert.Equal(3, new DataLoader(data, 4, shuffle: false).Batches(0).Count());
        Assert.Equal(6, data.Take(6).Count);
        var e = Assert.Throws<ArgumentException>(() => new TensorDataset(features, NDArray.From(new long[9], 9)));
        Assert.Contains("array 1 of the dataset has 9 samples", e.Message);
    }
}
