using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GraphNet.Runtime.Kernels;

/// <summary>
/// One pointwise op at a time, as an eager framework runs it: a table entry's formula through
/// the vector handler of the machine's width (the same code fused loops run), the tail through
/// the reference handler, split over cores when large. Binary ops broadcast; runs whose operands
/// are contiguous or broadcast scalars stay vectorized.
/// </summary>
public static class PointwiseKernels
{
    /// <summary>Elements below which splitting over cores costs more than it saves.</summary>
    public const int ParallelThreshold = 1 << 15;

    /// <summary>y = f(x) elementwise (same shapes; y may be x).</summary>
    public static void Unary(UnaryFn fn, NDArray x, NDArray y, double p)
    {
        if (x.DType == DType.Float32) fn.Dispatch(new UnaryJob<float>(x.As<float>(), y.As<float>(), (float)p));
        else fn.Dispatch(new UnaryJob<double>(x.As<double>(), y.As<double>(), p));
    }

    /// <summary>y = f(a, b) with NumPy broadcasting (y has the broadcast shape).</summary>
    public static void Binary(BinaryFn fn, NDArray a, NDArray b, NDArray y, double p)
    {
        if (a.DType == DType.Float32) fn.Dispatch(new BinaryJob<float>(a, b, y, (float)p));
        else fn.Dispatch(new BinaryJob<double>(a, b, y, p));
    }

    /// <summary>Dropout: y = x · (scale where kept, 0 where dropped), the same draws as the reference and generated loops.</summary>
    public static void Dropout(NDArray x, NDArray y, ulong key, float rate, double scale)
    {
        if (x.DType == DType.Float32) Split(y.Size, (lo, hi) => Dropout(x.As<float>(), y.As<float>(), key, rate, (float)scale, lo, hi));
        else Split(y.Size, (lo, hi) => Dropout(x.As<double>(), y.As<double>(), key, rate, scale, lo, hi));
    }

    /// <summary>Runs body over [0, size) in ranges on every core when size is large, else at once.</summary>
    internal static void Split(int size, Action<int, int> body)
    {
        int workers = Math.Min(Environment.ProcessorCount, size / ParallelThreshold);
        if (workers <= 1) { body(0, size); return; }
        Work.Ranges(size, 4 * workers, workers, 64, body);
    }

    private sealed class UnaryJob<T>(T[] x, T[] y, T p) : IUnaryDispatch<bool> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public bool Invoke<TF>() where TF : struct, IUnaryFormula
        {
            Split(y.Length, (lo, hi) => Map<TF, T>(x, y, p, lo, hi));
            return true;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Map<TF, T>(T[] x, T[] y, T p, int lo, int hi) where TF : struct, IUnaryFormula where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = Simd.Width switch
        {
            512 => Map<TF, T, Vector512<T>, Simd512<T>>(x, y, p, lo, hi),
            256 => Map<TF, T, Vector256<T>, Simd256<T>>(x, y, p, lo, hi),
            _ => lo,
        };
        for (; i < hi; i++) y[i] = Reference<T>.Unary<TF>(x[i], p);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Map<TF, T, V, O>(T[] x, T[] y, T p, int lo, int hi)
        where TF : struct, IUnaryFormula where T : unmanaged where O : IVectorOps<T, V>
    {
        ref T xr = ref MemoryMarshal.GetArrayDataReference(x);
        ref T yr = ref MemoryMarshal.GetArrayDataReference(y);
        var pv = new Num<V, V, O>(O.Splat(p));
        int i = lo;
        for (; i + O.Count <= hi; i += O.Count)
            O.Store(TF.Apply<V, V, O>(new(O.Load(ref xr, (nuint)i)), pv).Value, ref yr, (nuint)i);
        return i;
    }

    private sealed class BinaryJob<T>(NDArray a, NDArray b, NDArray y, T p) : IBinaryDispatch<bool> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public bool Invoke<TF>() where TF : struct, IBinaryFormula
        {
            T[] A = a.As<T>(), B = b.As<T>(), Y = y.As<T>();
            // Same shapes, or one side a single value: one flat run.
            int sa = A.Length == Y.Length ? 1 : A.Length == 1 ? 0 : -1, sb = B.Length == Y.Length ? 1 : B.Length == 1 ? 0 : -1;
            if (sa >= 0 && sb >= 0)
            {
                Split(Y.Length, (lo, hi) => Run<TF, T>(A, lo * sa, sa, B, lo * sb, sb, Y, lo, hi - lo, p));
                return true;
            }
            var plan = new BroadcastPlan(y.Shape, a.Shape, b.Shape);
            var visitor = new Visitor<TF, T> { A = A, B = B, Y = Y, P = p };
            int workers = Math.Min(Math.Min(Environment.ProcessorCount, plan.Runs), plan.Size / ParallelThreshold);
            if (workers <= 1) plan.ForEachRun(ref visitor);
            else
                Work.Ranges(plan.Runs, 4 * workers, workers, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (lo, hi) =>
                {
                    var v = visitor;
                    plan.ForEachRun(ref v, lo, hi);
                });
            return true;
        }
    }

    private struct Visitor<TF, T> : IRunVisitor where TF : struct, IBinaryFormula where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T[] A, B, Y; public T P;
        public void Run(int o, ReadOnlySpan<int> offs, ReadOnlySpan<int> st, int n) => Run<TF, T>(A, offs[0], st[0], B, offs[1], st[1], Y, o, n, P);
    }

    /// <summary>n outputs from y[iy]: a and b read from ia and ib with strides sa and sb (0: one value broadcast).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TF, T>(T[] a, int ia, int sa, T[] b, int ib, int sb, T[] y, int iy, int n, T p)
        where TF : struct, IBinaryFormula where T : unmanaged, IFloatingPointIeee754<T>
    {
        int j = 0;
        if (sa is 0 or 1 && sb is 0 or 1)
            j = Simd.Width switch
            {
                512 => Run<TF, T, Vector512<T>, Simd512<T>>(a, ia, sa, b, ib, sb, y, iy, n, p),
                256 => Run<TF, T, Vector256<T>, Simd256<T>>(a, ia, sa, b, ib, sb, y, iy, n, p),
                _ => 0,
            };
        for (; j < n; j++) y[iy + j] = Reference<T>.Binary<TF>(a[ia + j * sa], b[ib + j * sb], p);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Run<TF, T, V, O>(T[] a, int ia, int sa, T[] b, int ib, int sb, T[] y, int iy, int n, T p)
        where TF : struct, IBinaryFormula where T : unmanaged where O : IVectorOps<T, V>
    {
        ref T ar = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(a), ia);
        ref T br = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(b), ib);
        ref T yr = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(y), iy);
        var pv = new Num<V, V, O>(O.Splat(p));
        int j = 0;
        if (sa == 1 && sb == 1)
            for (; j + O.Count <= n; j += O.Count)
                O.Store(TF.Apply<V, V, O>(new(O.Load(ref ar, (nuint)j)), new(O.Load(ref br, (nuint)j)), pv).Value, ref yr, (nuint)j);
        else if (sa == 1)
        {
            var bv = new Num<V, V, O>(O.Splat(br));
            for (; j + O.Count <= n; j += O.Count) O.Store(TF.Apply<V, V, O>(new(O.Load(ref ar, (nuint)j)), bv, pv).Value, ref yr, (nuint)j);
        }
        else if (sb == 1)
        {
            var av = new Num<V, V, O>(O.Splat(ar));
            for (; j + O.Count <= n; j += O.Count) O.Store(TF.Apply<V, V, O>(av, new(O.Load(ref br, (nuint)j)), pv).Value, ref yr, (nuint)j);
        }
        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dropout<T>(T[] x, T[] y, ulong key, float rate, T scale, int lo, int hi) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = Simd.Width switch
        {
            512 => Dropout<T, Vector512<T>, Simd512<T>>(x, y, key, rate, scale, lo, hi),
            256 => Dropout<T, Vector256<T>, Simd256<T>>(x, y, key, rate, scale, lo, hi),
            _ => lo,
        };
        for (; i < hi; i++) y[i] = x[i] * VMath.DropoutScale(key, i, rate, scale);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Dropout<T, V, O>(T[] x, T[] y, ulong key, float rate, T scale, int lo, int hi) where T : unmanaged where O : IVectorOps<T, V>
    {
        ref T xr = ref MemoryMarshal.GetArrayDataReference(x);
        ref T yr = ref MemoryMarshal.GetArrayDataReference(y);
        int i = lo;
        for (; i + O.Count <= hi; i += O.Count) O.Store(O.Mul(O.Load(ref xr, (nuint)i), O.DropoutScale(key, i, rate, scale)), ref yr, (nuint)i);
        return i;
    }

    /// <summary>y = x broadcast to y's shape: whole rows copied, broadcast values filled.</summary>
    public static void BroadcastTo(NDArray x, NDArray y)
    {
        if (x.Size == 1) { Fill(x.Data, y.Data); return; }
        var plan = new BroadcastPlan(y.Shape, x.Shape);
        var v = new CopyRuns { X = x.Data, Y = y.Data };
        plan.ForEachRun(ref v);
    }

    private static void Fill(Array one, Array y)
    {
        switch (y)
        {
            case float[] f: Array.Fill(f, ((float[])one)[0]); break;
            case double[] d: Array.Fill(d, ((double[])one)[0]); break;
            default: for (int i = 0; i < y.Length; i++) Array.Copy(one, 0, y, i, 1); break;
        }
    }

    private struct CopyRuns : IRunVisitor
    {
        public Array X, Y;
        public void Run(int o, ReadOnlySpan<int> offs, ReadOnlySpan<int> s, int n)
        {
            if (s[0] == 1) { Array.Copy(X, offs[0], Y, o, n); return; }
            if (s[0] == 0 && Y is float[] fy) { fy.AsSpan(o, n).Fill(((float[])X)[offs[0]]); return; }
            for (int j = 0; j < n; j++) Array.Copy(X, offs[0] + j * s[0], Y, o + j, 1);
        }
    }
}
