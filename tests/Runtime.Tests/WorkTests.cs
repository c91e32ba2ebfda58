using GraphNet.Runtime.Kernels;

namespace GraphNet.Runtime.Tests;

/// <summary>The kernels' work distribution: every item once, worker ids in range, errors surface, and it survives reuse, nesting and two callers at once.</summary>
public class WorkTests
{
    [Fact]
    public void EveryItemRunsExactlyOnceWithWorkerIdsInRange()
    {
        for (int round = 0; round < 200; round++) // many jobs in a row: a late helper must not leak into the next one
        {
            int items = 1 + round % 37, workers = 1 + round % 3;
            var seen = new int[items];
            int badWorker = 0;
            Work.Dynamic(items, workers, (w, i) =>
            {
                if (w < 0 || w >= Math.Min(workers, items)) Interlocked.Increment(ref badWorker);
                Interlocked.Increment(ref seen[i]);
            });
            Assert.All(seen, c => Assert.Equal(1, c));
            Assert.Equal(0, badWorker);
        }
    }

    [Fact]
    public void AnErrorInAnItemReachesTheCallerAndTheWorkersCarryOn()
    {
        var e = Assert.ThrowsAny<Exception>(() => Work.Dynamic(64, 2, (_, i) => { if (i == 40) throw new InvalidOperationException("item 40 failed"); }));
        Assert.Contains("item 40 failed", e.ToString());
        int sum = 0;
        Work.Dynamic(100, 2, (_, i) => Interlocked.Add(ref sum, i));
        Assert.Equal(4950, sum);
    }

    [Fact]
    public void NestedAndConcurrentJobsComplete()
    {
        var totals = new long[4];
        Parallel.For(0, 4, caller =>
        {
            for (int rep = 0; rep < 20; rep++)
                Work.Dynamic(8, 2, (_, i) => Work.Dynamic(8, 2, (_, j) => Interlocked.Add(ref totals[caller], i * 8 + j)));
        });
        Assert.All(totals, t => Assert.Equal(20L * (63 * 64 / 2), t));
    }

    [Fact]
    public void ChunksCoverTheItemsInOrderedContiguousRanges()
    {
        var owner = new int[103];
        Work.Chunks(103, 7, 2, (chunk, lo, hi) => { for (int i = lo; i < hi; i++) owner[i] = chunk; });
        for (int i = 1; i < owner.Length; i++) Assert.True(owner[i] >= owner[i - 1]);
        Assert.Equal(0, owner[0]);
        Assert.Equal(6, owner[^1]);
    }
}
