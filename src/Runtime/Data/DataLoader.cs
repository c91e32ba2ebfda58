namespace GraphNet.Runtime.Data;

/// <summary>One batch: images [B, C, H, W] and labels [B]. The last batch of an epoch may be smaller.</summary>
public sealed record Batch(NDArray Images, NDArray Labels, int Size);

/// <summary>
/// Batches a dataset, shuffled per epoch by a seeded counter-based generator (same order on
/// every machine), keeping the last partial batch.
/// </summary>
public sealed class DataLoader(ImageDataset data, int batchSize, bool shuffle, int seed = 0)
{
    public int BatchCount => (data.Count + batchSize - 1) / batchSize;
    public ImageDataset Data => data;

    /// <summary>The sample order of an epoch: a Fisher-Yates shuffle keyed by (seed, epoch).</summary>
    public int[] Order(int epoch)
    {
        var order = Enumerable.Range(0, data.Count).ToArray();
        if (!shuffle) return order;
        var key = CounterRng.Key((ulong)seed, (ulong)epoch);
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = (int)(CounterRng.Bits(key, (ulong)i) % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    public IEnumerable<Batch> Epoch(int epoch)
    {
        var order = Order(epoch);
        int size = data.ImageSize;
        for (int start = 0; start < order.Length; start += batchSize)
        {
            int b = Math.Min(batchSize, order.Length - start);
            var x = new float[b * size];
            var y = new long[b];
            for (int i = 0; i < b; i++)
            {
                int s = order[start + i];
                Array.Copy(data.Images, s * size, x, i * size, size);
                y[i] = data.Labels[s];
            }
            yield return new Batch(NDArray.From(x, b, data.Channels, data.Height, data.Width), NDArray.From(y, b), b);
        }
    }
}
