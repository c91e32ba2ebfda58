namespace GraphNet.Runtime.Kernels;

/// <summary>
/// Spreads a kernel's work items over cores, handing them out as workers come free instead of
/// in one fixed share per core. On a shared machine one core is often slower than the other (a
/// neighbour's load, or a vCPU that comes and goes): with fixed halves a step waits for the slow
/// half; handing out items keeps both cores busy to the end.
/// </summary>
public static class Work
{
    /// <summary>Runs <paramref name="body"/>(worker, item) for every item in [0, items) on up to <paramref name="workers"/> threads; worker ids are 0..workers−1 and each runs on one thread.</summary>
    public static void Dynamic(int items, int workers, Action<int, int> body)
    {
        workers = Math.Min(workers, items);
        if (workers <= 1) { for (int i = 0; i < items; i++) body(0, i); return; }
        int next = -1;
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, t =>
        {
            for (int i = Interlocked.Increment(ref next); i < items; i = Interlocked.Increment(ref next)) body(t, i);
        });
    }

    /// <summary>Splits [0, size) into about <paramref name="chunks"/> ranges aligned to <paramref name="align"/> and runs them as <see cref="Dynamic"/> items.</summary>
    public static void Ranges(int size, int chunks, int workers, int align, Action<int, int> body)
    {
        chunks = Math.Max(1, Math.Min(chunks, size / Math.Max(1, align)));
        Dynamic(chunks, workers, (_, i) =>
        {
            int lo = (int)((long)size * i / chunks) / align * align, hi = i == chunks - 1 ? size : (int)((long)size * (i + 1) / chunks) / align * align;
            if (hi > lo) body(lo, hi);
        });
    }

    /// <summary>
    /// Splits [0, items) into <paramref name="chunks"/> contiguous ranges and runs
    /// body(chunk, lo, hi) for each, ranges handed out as workers come free. For reductions:
    /// give each chunk its own partial sum and add the partials in chunk order, and the result
    /// does not depend on which thread ran what (dynamic hand-out with per-thread sums would make
    /// training differ from run to run in the last bits).
    /// </summary>
    public static void Chunks(int items, int chunks, int workers, Action<int, int, int> body) =>
        Dynamic(chunks, workers, (_, c) => body(c, (int)((long)items * c / chunks), (int)((long)items * (c + 1) / chunks)));

    /// <summary>How many partial sums a reduction over <paramref name="items"/> keeps: a few per worker, at most one per item.</summary>
    public static int ReductionChunks(int items, int workers) => workers <= 1 ? 1 : Math.Min(items, 3 * workers);
}
