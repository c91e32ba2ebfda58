namespace GraphNet.Compiler;

/// <summary>
/// What an executable made for each batch size (its buffers), the most recently used few kept:
/// a service that sees many batch sizes would otherwise keep buffers for every one it ever saw.
/// At most <paramref name="maxEntries"/> sizes and <paramref name="maxBytes"/> bytes are kept
/// (the size in use always is); what falls out is released (device buffers are disposed).
/// </summary>
internal sealed class RecentBatches<T>(Func<T, long> bytesOf, Action<T>? release = null,
    int maxEntries = RecentBatches.DefaultEntries, long maxBytes = RecentBatches.DefaultBytes)
{
    private readonly LinkedList<(int Batch, T Value)> order = new();
    private readonly Dictionary<int, LinkedListNode<(int Batch, T Value)>> byBatch = [];
    private long bytes;

    public int Count => order.Count;
    public long Bytes => bytes;
    public IEnumerable<T> Values => order.Select(e => e.Value);

    /// <summary>The value for this batch size, made now if it was never made or has been released.</summary>
    public T Get(int batch, Func<int, T> make)
    {
        if (byBatch.TryGetValue(batch, out var node))
        {
            if (node != order.First) { order.Remove(node); order.AddFirst(node); }
            return node.Value.Value;
        }
        var value = make(batch);
        byBatch[batch] = order.AddFirst((batch, value));
        bytes += bytesOf(value);
        while (order.Count > 1 && (order.Count > maxEntries || bytes > maxBytes))
        {
            var (old, oldValue) = order.Last!.Value;
            order.RemoveLast();
            byBatch.Remove(old);
            bytes -= bytesOf(oldValue);
            release?.Invoke(oldValue);
            DebugLog.Write(2, $"released the buffers of batch size {old} (keeping {order.Count} sizes, {bytes:N0} bytes)");
        }
        return value;
    }
}

internal static class RecentBatches
{
    /// <summary>Batch sizes kept per executable, and their bytes at most (beyond the size in use).</summary>
    public const int DefaultEntries = 4;
    public const long DefaultBytes = 2L << 30;
}
