using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
namespace GraphNet.Runtime.Kernels;

/// <summary>2-D pooling forward and backward over [N,C,H,W], parallel over planes.</summary>
public static class Pool
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static NDArray Forward(NDArray x, PoolParams p, NDArray? into = null)
    {
        int planes = x.Shape[0] * x.Shape[1], h = x.Shape[2], w = x.Shape[3], ho = p.OutSize(0, h), wo = p.OutSize(1, w);
        var y = into ?? NDArray.Zeros(x.DType, x.Shape[0], x.Shape[1], ho, wo);
        bool vector = IsMax2x2(p) && MaxPool2x2.Vectorized;
        if (x.DType == DType.Float64)
        {
            if (vector) MaxPool2x2.Forward(x.As<double>(), y.As<double>(), planes, h, w);
            else ForwardLoops(x.As<double>(), y.As<double>(), planes, h, w, ho, wo, p);
        }
        else if (vector) MaxPool2x2.Forward(x.As<float>(), y.As<float>(), planes, h, w);
        else ForwardLoops(x.As<float>(), y.As<float>(), planes, h, w, ho, wo, p);
        return y;
    }

    private static bool IsMax2x2(PoolParams p) => p.Kind == PoolKind.Max && p.Kernel is [2, 2] && p.Stride is [2, 2] && p.Padding is [0, 0];

    /// <summary>Pooling by plain loops, in either float type (the vector 2x2 kernel aside).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardLoops<T>(T[] X, T[] Y, int planes, int h, int w, int ho, int wo, PoolParams p)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (IsMax2x2(p))
        {
            ForPlanes(planes, h * w, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int plane) =>
            {
                int xo = plane * h * w, yo = plane * ho * wo;
                for (int oy = 0; oy < ho; oy++)
                {
                    int r0 = xo + 2 * oy * w, r1 = r0 + w;
                    for (int ox = 0; ox < wo; ox++)
                        Y[yo + oy * wo + ox] = T.Max(T.Max(X[r0 + 2 * ox], X[r0 + 2 * ox + 1]), T.Max(X[r1 + 2 * ox], X[r1 + 2 * ox + 1]));
                }
            });
            return;
        }
        int kh = p.Kernel[0], kw = p.Kernel[1], sy = p.Stride[0], sx = p.Stride[1], py = p.Padding[0], px = p.Padding[1];
        T inv = T.One / T.CreateTruncating(kh * kw);
        ForPlanes(planes, h * w, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int plane) =>
        {
            int xo = plane * h * w, yo = plane * ho * wo;
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++)
                {
                    T acc = p.Kind == PoolKind.Max ? T.NegativeInfinity : p.Kind == PoolKind.Min ? T.PositiveInfinity : T.Zero;
                    for (int ky = 0; ky < kh; ky++)
                    {
                        int iy = oy * sy - py + ky;
                        if ((uint)iy >= (uint)h) continue;
                        for (int kx = 0; kx < kw; kx++)
                        {
                            int ix = ox * sx - px + kx;
                            if ((uint)ix >= (uint)w) continue;
                            T v = X[xo + iy * w + ix];
                            acc = p.Kind switch
                            {
                                PoolKind.Max => v > acc || T.IsNaN(v) ? v : acc,
                                PoolKind.Min => v < acc || T.IsNaN(v) ? v : acc,
                                _ => acc + v,
                            };
                        }
                    }
                    Y[yo + oy * wo + ox] = p.Kind == PoolKind.Avg ? acc * inv : acc;
                }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static NDArray Backward(NDArray x, NDArray dy, PoolParams p, NDArray? into = null)
    {
        int planes = x.Shape[0] * x.Shape[1], h = x.Shape[2], w = x.Shape[3], ho = dy.Shape[2], wo = dy.Shape[3];
        var dx = into ?? NDArray.Zeros(x.DType, x.Shape);
        bool vector = IsMax2x2(p) && MaxPool2x2.Vectorized && (h & 1) == 0 && (w & 1) == 0;
        if (x.DType == DType.Float64 && vector) MaxPool2x2.Backward(x.As<double>(), dy.As<double>(), dx.As<double>(), planes, h, w);
        else if (x.DType == DType.Float64)
            BackwardLoops(x.As<double>(), dy.As<double>(), dx.As<double>(), planes, h, w, ho, wo, p, into is not null);
        else if (vector) MaxPool2x2.Backward(x.As<float>(), dy.As<float>(), dx.As<float>(), planes, h, w);
        else BackwardLoops(x.As<float>(), dy.As<float>(), dx.As<float>(), planes, h, w, ho, wo, p, into is not null);
        return dx;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardLoops<T>(T[] X, T[] D, T[] G, int planes, int h, int w, int ho, int wo, PoolParams p, bool reused)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (IsMax2x2(p))
        {
            // The book's MaxPool2d(2): windows do not overlap, so each gradient lands in one place.
            // Every element of a window is written (the gradient or zero), so the buffer needs no
            // clearing first except rows and columns no window covers (odd sizes).
            ForPlanes(planes, h * w, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int plane) =>
            {
                int xo = plane * h * w, yo = plane * ho * wo;
                if ((h & 1) != 0 || (w & 1) != 0) Array.Clear(G, xo, h * w);
                for (int oy = 0; oy < ho; oy++)
                {
                    int r0 = xo + 2 * oy * w, r1 = r0 + w;
                    for (int ox = 0; ox < wo; ox++)
                    {
                        int a = r0 + 2 * ox, b = r1 + 2 * ox, best = 0;
                        T bv = X[a];
                        if (X[a + 1] > bv) { best = 1; bv = X[a + 1]; }
                        if (X[b] > bv) { best = 2; bv = X[b]; }
                        if (X[b + 1] > bv) best = 3;
                        T d = D[yo + oy * wo + ox];
                        G[a] = best == 0 ? d : T.Zero; G[a + 1] = best == 1 ? d : T.Zero;
                        G[b] = best == 2 ? d : T.Zero; G[b + 1] = best == 3 ? d : T.Zero;
                    }
                }
            });
            return;
        }
        if (reused) Array.Clear(G);
        int kh = p.Kernel[0], kw = p.Kernel[1], sy = p.Stride[0], sx = p.Stride[1], py = p.Padding[0], px = p.Padding[1];
        T inv = T.One / T.CreateTruncating(kh * kw);
        ForPlanes(planes, h * w, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int plane) =>
        {
            int xo = plane * h * w, yo = plane * ho * wo;
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++)
                {
                    T d = D[yo + oy * wo + ox];
                    int best = -1; T bv = T.Zero;
                    for (int ky = 0; ky < kh; ky++)
                    {
                        int iy = oy * sy - py + ky;
                        if ((uint)iy >= (uint)h) continue;
                        for (int kx = 0; kx < kw; kx++)
                        {
                            int ix = ox * sx - px + kx;
                            if ((uint)ix >= (uint)w) continue;
                            int i = xo + iy * w + ix;
                            if (p.Kind == PoolKind.Avg) { G[i] += d * inv; continue; }
                            if (best < 0 || (p.Kind == PoolKind.Max ? X[i] > bv : X[i] < bv) || T.IsNaN(X[i])) { best = i; bv = X[i]; }
                        }
                    }
                    if (best >= 0) G[best] += d;
                }
        });
    }

    internal static void ForPlanes(int planes, int planeSize, Action<int> body)
    {
        int workers = (long)planes * planeSize < 1 << 16 ? 1 : Math.Min(Environment.ProcessorCount, planes);
        if (workers == 1) { for (int i = 0; i < planes; i++) body(i); return; }
        // Ranges of planes (not one task per plane), a few per core, handed out as cores come free.
        Work.Ranges(planes, 4 * workers, workers, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (lo, hi) =>
        {
            for (int i = lo; i < hi; i++) body(i);
        });
    }
}

/// <summary>Row-wise softmax and log_softmax over the last axis (or any axis, with a strided walk).</summary>
public static class Softmax
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static NDArray Forward(NDArray x, int axis, bool log, NDArray? into = null)
    {
        var s = x.Shape; int a = axis < 0 ? axis + s.Length : axis;
        int outer = s.Take(a).Aggregate(1, (q, d) => q * d), n = s[a], inner = s.Skip(a + 1).Aggregate(1, (q, d) => q * d);
        var y = into ?? NDArray.Zeros(DType.Float32, s);
        float[] X = x.As<float>(), Y = y.As<float>();
        if (inner == 1 && n >= Vector512<float>.Count && Vector512.IsHardwareAccelerated)
        {
            Pool.ForPlanes(outer, n, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int r) =>
                Row(X.AsSpan(r * n, n), Y.AsSpan(r * n, n), log));
            return y;
        }
        Pool.ForPlanes(outer * inner, n, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int r) =>
        {
            int o = r / inner, i = r % inner, b = o * n * inner + i;
            float max = float.NegativeInfinity;
            for (int k = 0; k < n; k++) max = MathF.Max(max, X[b + k * inner]);
            float sum = 0;
            for (int k = 0; k < n; k++) sum += MathF.Exp(X[b + k * inner] - max);
            float logSum = MathF.Log(sum), invSum = 1f / sum;
            for (int k = 0; k < n; k++)
            {
                float z = X[b + k * inner] - max;
                Y[b + k * inner] = log ? z - logSum : MathF.Exp(z) * invSum;
            }
        });
        return y;
    }

    /// <summary>
    /// One contiguous row in vectors (attention's rows of 35 keys: the scalar loop's two exp calls
    /// an element were most of a Transformer layer's softmax time). exp(x − max) is stored, summed,
    /// then scaled (or, for log_softmax, x − max − log Σ). A row of −∞ gives NaN, as PyTorch's.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row(ReadOnlySpan<float> x, Span<float> y, bool log)
    {
        int n = x.Length, full = n - n % Vector512<float>.Count;
        var vmax = Vector512.Create(float.NegativeInfinity);
        for (int k = 0; k < full; k += Vector512<float>.Count) vmax = Vector512.Max(vmax, Vector512.Create(x[k..]));
        float max = float.NegativeInfinity;
        for (int i = 0; i < Vector512<float>.Count; i++) max = MathF.Max(max, vmax.GetElement(i));
        for (int k = full; k < n; k++) max = MathF.Max(max, x[k]);
        var m = Vector512.Create(max);
        var vsum = Vector512<float>.Zero;
        for (int k = 0; k < full; k += Vector512<float>.Count)
        {
            var e = VExp.Exp(Vector512.Create(x[k..]) - m);
            vsum += e;
            if (!log) e.CopyTo(y[k..]);
        }
        float sum = Vector512.Sum(vsum);
        for (int k = full; k < n; k++)
        {
            float e = MathF.Exp(x[k] - max);
            sum += e;
            if (!log) y[k] = e;
        }
        if (log)
        {
            float shift = max + MathF.Log(sum);
            for (int k = 0; k < full; k += Vector512<float>.Count) (Vector512.Create(x[k..]) - Vector512.Create(shift)).CopyTo(y[k..]);
            for (int k = full; k < n; k++) y[k] = x[k] - shift;
            return;
        }
        float scale = 1f / sum;
        for (int k = 0; k < full; k += Vector512<float>.Count) (Vector512.Create(y[k..]) * scale).CopyTo(y[k..]);
        for (int k = full; k < n; k++) y[k] *= scale;
    }
}
