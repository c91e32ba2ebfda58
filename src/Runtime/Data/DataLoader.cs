namespace GraphNet.Runtime.Data;

/// <summary>One batch: images [B, C, H, W] and labels [B]. The last batch of an epoch may be smaller.</summary>
public sealed record Batch(NDArray Images, NDArray Labels, int Size);

/// <summary>
/// Batches a dataset, as torch.utils.data.DataLoader: shuffled per epoch by a seeded counter-based
/// generator (the same order on every machine) or in order, keeping the last partial batch unless
/// <c>dropLast</c>.
/// </summary>
public sealed class DataLoader(TensorDataset data, int batchSize, bool shuffle, int seed = 0, bool dropLast = false)
{
    /// <summary>A loader of images and labels (<see cref="Epoch"/> gives them as <see cref="Batch"/>es).</summary>
    public DataLoader(ImageDataset data, int batchSize, bool shuffle, int seed = 0, bool dropLast = false)
        : this(TensorDataset.From(data), batchSize, shuffle, seed, dropLast) { }

    public int BatchCount => dropLast ? data.Count / batchSize : (data.Count + batchSize - 1) / batchSize;
    public TensorDataset Data => data;
    public int BatchSize => batchSize;

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

    /// <summary>The batches of an epoch: one array per dataset array, each [B, ...].</summary>
    public IEnumerable<NDArray[]> Batches(int epoch)
    {
        var order = Order(epoch);
        for (int b = 0; b < BatchCount; b++)
        {
            int start = b * batchSize;
            yield return data.Gather(new ArraySegment<int>(order, start, Math.Min(batchSize, order.Length - start)));
        }
    }

    /// <summary>The batches of an epoch of images and labels (a dataset of those two arrays).</summary>
    public IEnumerable<Batch> Epoch(int epoch)
    {
        if (data.Tensors.Count != 2)
            throw new InvalidOperationException($"Epoch gives images and labels; this dataset has {data.Tensors.Count} arrays: use Batches");
        foreach (var b in Batches(epoch)) yield return new Batch(b[0], b[1], b[0].Shape[0]);
    }
}
