namespace GraphNet.Runtime.Kernels;

/// <summary>
/// Spreads a kernel's work items over cores, handing them out as workers come free instead of
/// in one fixed share per core. On a shared machine one core is often slower than the other (a
/// neighbour's load, or a vCPU that comes and goes): with fixed halves a step waits for the slow
/// half; handing out items keeps both cores busy to the end.
///
/// The workers are this class's own threads, started once and parked between kernels (after a
/// short spin, so back-to-back kernels, such as an unrolled LSTM's, do not pay a wake-up each).
/// Parallel.For allocated about a kilobyte of bookkeeping per call, dozens of times a step; a
/// job here allocates nothing beyond the caller's delegate.
/// </summary>
public static class Work
{
    /// <summary>
    /// Runs <paramref name="body"/>(worker, item) for every item in [0, items) on up to <paramref
    /// name="workers"/> threads; worker ids are 0..workers−1, and one id never runs on two threads at once.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void Dynamic(int items, int workers, Action<int, int> body)
    {
        workers = Math.Min(workers, items);
        // Inside an item of a job every core is taken already (a scan's halves of the batch run
        // their steps' kernels this way): more threads would only take turns on them.
        if (workers <= 1 || inItem) { for (int i = 0; i < items; i++) body(0, i); return; }
        if (Pool.TryRun(items, workers, body)) return;
        // The pool is busy (a kernel inside a kernel, or another session's step on another
        // thread): the thread pool takes it, as before.
        int next = -1;
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, t =>
        {
            inItem = true;
            try { for (int i = Interlocked.Increment(ref next); i < items; i = Interlocked.Increment(ref next)) body(t, i); }
            finally { inItem = false; }
        });
    }

    /// <summary>Whether this thread is running an item of a parallel job (its nested jobs run inline).</summary>
    [ThreadStatic] private static bool inItem;

    /// <summary>Whether this thread runs an item of a parallel job: a kernel called there has the core to itself and need not split.</summary>
    public static bool InItem => inItem;

    /// <summary>
    /// Splits [0, size) into about <paramref name="chunks"/> ranges aligned to <paramref name="align"/> and runs
    /// them as <see cref="Dynamic"/> items.
    /// </summary>
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

    /// <summary>
    /// One job at a time: the caller is worker 0 and helper threads 1..n join it. Items are
    /// claimed by compare-and-swap on (generation, next index), so a helper still finishing one
    /// job can never take an item of the next with the old job's delegate.
    /// </summary>
    private static class Pool
    {
        private static readonly object Gate = new();
        private static int busy;
        private static Thread[]? helpers;
        private static long cursor;               // generation << 32 | next item index
        private static int generation, jobItems, jobHelpers, pending, joined;
        private static Action<int, int>? job;
        private static Exception? error;
        private static readonly ManualResetEventSlim Done = new(false);

        public static bool TryRun(int items, int workers, Action<int, int> body)
        {
            if (Interlocked.CompareExchange(ref busy, 1, 0) != 0) return false;
            try
            {
                var threads = helpers ??= Start();
                if (threads.Length == 0) return false;
                Done.Reset();
                error = null;
                lock (Gate)
                {
                    job = body; jobItems = items; pending = items; joined = 0;
                    jobHelpers = Math.Min(workers - 1, threads.Length);
                    int gen = ++generation;
                    Volatile.Write(ref cursor, (long)gen << 32);
                    Monitor.PulseAll(Gate);
                }
                RunItems(0, generation, body, items);
                Done.Wait();
                if (error is { } e) throw new AggregateException(e);
                return true;
            }
            finally
            {
                job = null;
                Volatile.Write(ref busy, 0);
            }
        }

        private static Thread[] Start()
        {
            var threads = new Thread[Math.Max(0, Environment.ProcessorCount - 1)];
            for (int i = 0; i < threads.Length; i++)
            {
                threads[i] = new Thread(HelperLoop) { IsBackground = true, Name = $"GraphNet worker {i + 1}" };
                threads[i].Start();
            }
            return threads;
        }

        private static void HelperLoop()
        {
            int seen = 0;
            while (true)
            {
                // Spin briefly for the next job, then park.
                var spin = new SpinWait();
                for (int i = 0; i < 200 && Volatile.Read(ref generation) == seen; i++) spin.SpinOnce(sleep1Threshold: -1);
                Action<int, int>? body; int gen, items, worker;
                lock (Gate)
                {
                    while (generation == seen) Monitor.Wait(Gate);
                    seen = gen = generation;
                    body = job; items = jobItems;
                    // Only as many helpers as the job asked for, numbered in the order they join,
                    // so worker ids stay below the job's worker count.
                    if (body is null || joined >= jobHelpers) continue;
                    worker = ++joined;
                }
                RunItems(worker, gen, body, items);
            }
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static void RunItems(int worker, int gen, Action<int, int> body, int items)
        {
            while (true)
            {
                long c = Volatile.Read(ref cursor);
                if ((int)(c >> 32) != gen) return;
                int i = (int)c;
                if (i >= items) return;
                if (Interlocked.CompareExchange(ref cursor, c + 1, c) != c) continue;
                inItem = true;
                try { body(worker, i); }
                catch (Exception e) { Interlocked.CompareExchange(ref error, e, null); }
                finally { inItem = false; }
                if (Interlocked.Decrement(ref pending) == 0) Done.Set();
            }
        }
    }
}
