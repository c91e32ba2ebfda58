using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GraphNet.Runtime.Kernels;

/// <summary>
/// Sum, mean, max and min over axes, vectorized the way fused reduction loops are: a run that
/// collapses into one output is summed in vector lanes, a run that maps to a run of outputs is
/// added lane by lane. Large inputs are split over cores in chunks with partial results added
/// in chunk order, so the result does not depend on which core ran what. Max and min propagate
/// NaN (the handlers' Max and Min).
/// </summary>
public static class ReduceKernels
{
    /// <summary>y = reduce(x) over the op's axes; y has the kept shape's element count (reduced axes as 1).</summary>
    public static void Reduce(ReduceOp op, NDArray x, NDArray y)
    {
        if (x.DType == DType.Float32) Reduce(op, x.Shape, x.As<float>(), y.As<float>());
        else Reduce(op, x.Shape, x.As<double>(), y.As<double>());
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Reduce<T>(ReduceOp op, int[] shape, T[] x, T[] y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var axes = op.NormalizedAxes(shape.Length);
        var kept = shape.Select((d, i) => axes.Contains(i) ? 1 : d).ToArray();
        var plan = new BroadcastPlan(shape, kept, shape);
        T init = op.Kind switch { ReduceKind.Max => T.NegativeInfinity, ReduceKind.Min => T.PositiveInfinity, _ => T.Zero };
        int workers = Math.Min(Math.Min(Environment.ProcessorCount, plan.Runs), plan.Size / PointwiseKernels.ParallelThreshold);
        int chunks = Work.ReductionChunks(plan.Runs, workers);
        if (chunks <= 1)
        {
            Array.Fill(y, init);
            var v = new Visitor<T> { X = x, Acc = y, Kind = op.Kind };
            plan.ForEachRun(ref v);
        }
        else
        {
            // One partial result per chunk of runs, combined in chunk order.
            var partial = new T[chunks * y.Length];
            Array.Fill(partial, init);
            Work.Chunks(plan.Runs, chunks, workers, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (c, lo, hi) =>
            {
                var v = new Visitor<T> { X = x, Acc = partial, AccOffset = c * y.Length, Kind = op.Kind };
                plan.ForEachRun(ref v, lo, hi);
            });
            partial.AsSpan(0, y.Length).CopyTo(y);
            for (int c = 1; c < chunks; c++)
                for (int i = 0; i < y.Length; i++) y[i] = Combine(op.Kind, y[i], partial[c * y.Length + i]);
        }
        if (op.Kind == ReduceKind.Mean)
        {
            long count = axes.Aggregate(1L, (n, a) => n * shape[a]);
            T inv = T.One / T.CreateChecked(count);
            for (int i = 0; i < y.Length; i++) y[i] *= inv;
        }
    }

    private static T Combine<T>(ReduceKind kind, T a, T b) where T : IFloatingPointIeee754<T> =>
        kind switch { ReduceKind.Max => T.Max(a, b), ReduceKind.Min => T.Min(a, b), _ => a + b };

    private struct Visitor<T> : IRunVisitor where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T[] X, Acc; public int AccOffset; public ReduceKind Kind;
        public void Run(int o, ReadOnlySpan<int> offs, ReadOnlySpan<int> st, int n)
        {
            int a = AccOffset + offs[0];
            switch (Simd.Width)
            {
                case 512: Run<T, Vector512<T>, Simd512<T>>(X, o, Acc, a, st[0], n, Kind); break;
                case 256: Run<T, Vector256<T>, Simd256<T>>(X, o, Acc, a, st[0], n, Kind); break;
                default: RunScalar(X, o, Acc, a, st[0], n, Kind); break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunScalar<T>(T[] x, int o, T[] acc, int a, int sa, int n, ReduceKind kind) where T : IFloatingPointIeee754<T>
    {
        for (int j = 0; j < n; j++) acc[a + j * sa] = Combine(kind, acc[a + j * sa], x[o + j]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<T, V, O>(T[] x, int o, T[] acc, int a, int sa, int n, ReduceKind kind)
        where T : unmanaged, IFloatingPointIeee754<T> where O : IVectorOps<T, V>
    {
        ref T xr = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), o);
        int j = 0;
        if (sa == 0)
        {
            // The whole run collapses into acc[a]: four vector accumulators, then their lanes.
            T init = kind switch { ReduceKind.Max => T.NegativeInfinity, ReduceKind.Min => T.PositiveInfinity, _ => T.Zero };
            V s0 = O.Splat(init), s1 = s0, s2 = s0, s3 = s0;
            for (; j + 4 * O.Count <= n; j += 4 * O.Count)
            {
                s0 = Combine<T, V, O>(kind, s0, O.Load(ref xr, (nuint)j));
                s1 = Combine<T, V, O>(kind, s1, O.Load(ref xr, (nuint)(j + O.Count)));
                s2 = Combine<T, V, O>(kind, s2, O.Load(ref xr, (nuint)(j + 2 * O.Count)));
                s3 = Combine<T, V, O>(kind, s3, O.Load(ref xr, (nuint)(j + 3 * O.Count)));
            }
            for (; j + O.Count <= n; j += O.Count) s0 = Combine<T, V, O>(kind, s0, O.Load(ref xr, (nuint)j));
            var s = Combine<T, V, O>(kind, Combine<T, V, O>(kind, s0, s1), Combine<T, V, O>(kind, s2, s3));
            T total = init;
            for (int q = 0; q < O.Count; q++) total = Combine(kind, total, O.Lane(s, q));
            for (; j < n; j++) total = Combine(kind, total, Unsafe.Add(ref xr, j));
            acc[a] = Combine(kind, acc[a], total);
            return;
        }
        if (sa == 1)
        {
            ref T ar = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(acc), a);
            for (; j + O.Count <= n; j += O.Count)
                O.Store(Combine<T, V, O>(kind, O.Load(ref ar, (nuint)j), O.Load(ref xr, (nuint)j)), ref ar, (nuint)j);
        }
        for (; j < n; j++) acc[a + j * sa] = Combine(kind, acc[a + j * sa], Unsafe.Add(ref xr, j));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static V Combine<T, V, O>(ReduceKind kind, V a, V b) where T : unmanaged where O : IVectorOps<T, V> =>
        kind switch { ReduceKind.Max => O.Max(a, b), ReduceKind.Min => O.Min(a, b), _ => O.Add(a, b) };
}
