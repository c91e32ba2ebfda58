using System.Runtime.CompilerServices;

namespace GraphNet.Runtime.Kernels;

/// <summary>Float64 pooling: the float32 kernels' general loops (same window rules, ties and NaNs) in double.</summary>
public static partial class Pool
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static NDArray Forward64(NDArray x, PoolParams p, NDArray? into)
    {
        int planes = x.Shape[0] * x.Shape[1], h = x.Shape[2], w = x.Shape[3], ho = p.OutSize(0, h), wo = p.OutSize(1, w);
        var y = into ?? NDArray.Zeros(DType.Float64, x.Shape[0], x.Shape[1], ho, wo);
        double[] X = x.As<double>(), Y = y.As<double>();
        int kh = p.Kernel[0], kw = p.Kernel[1], sy = p.Stride[0], sx = p.Stride[1], py = p.Padding[0], px = p.Padding[1];
        double inv = 1.0 / (kh * kw);
        var kind = p.Kind;
        if (kind == PoolKind.Max && p.Kernel is [2, 2] && p.Stride is [2, 2] && p.Padding is [0, 0])
        {
            ForPlanes(planes, h * w, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int plane) =>
            {
                int xo = plane * h * w, yo = plane * ho * wo;
                for (int oy = 0; oy < ho; oy++)
                {
                    int r0 = xo + 2 * oy * w, r1 = r0 + w;
                    for (int ox = 0; ox < wo; ox++)
                        Y[yo + oy * wo + ox] = Math.Max(Math.Max(X[r0 + 2 * ox], X[r0 + 2 * ox + 1]), Math.Max(X[r1 + 2 * ox], X[r1 + 2 * ox + 1]));
                }
            });
            return y;
        }
        ForPlanes(planes, h * w, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int plane) =>
        {
            int xo = plane * h * w, yo = plane * ho * wo;
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++)
                {
                    double acc = p.Kind == PoolKind.Max ? double.NegativeInfinity : p.Kind == PoolKind.Min ? double.PositiveInfinity : 0;
                    for (int ky = 0; ky < kh; ky++)
                    {
                        int iy = oy * sy - py + ky;
                        if ((uint)iy >= (uint)h) continue;
                        for (int kx = 0; kx < kw; kx++)
                        {
                            int ix = ox * sx - px + kx;
                            if ((uint)ix >= (uint)w) continue;
                            double v = X[xo + iy * w + ix];
                            acc = p.Kind switch
                            {
                                PoolKind.Max => v > acc || double.IsNaN(v) ? v : acc,
                                PoolKind.Min => v < acc || double.IsNaN(v) ? v : acc,
                                _ => acc + v,
                            };
                        }
                    }
                    Y[yo + oy * wo + ox] = p.Kind == PoolKind.Avg ? acc * inv : acc;
                }
        });
        return y;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static NDArray Backward64(NDArray x, NDArray dy, PoolParams p, NDArray? into)
    {
        int planes = x.Shape[0] * x.Shape[1], h = x.Shape[2], w = x.Shape[3], ho = dy.Shape[2], wo = dy.Shape[3];
        var dx = into ?? NDArray.Zeros(DType.Float64, x.Shape);
        if (into is not null) Array.Clear(into.Data);
        double[] X = x.As<double>(), D = dy.As<double>(), G = dx.As<double>();
        if (p.Kind == PoolKind.Max && p.Kernel is [2, 2] && p.Stride is [2, 2] && p.Padding is [0, 0])
        {
            // As float32's 2x2 path: windows do not overlap; the first largest of each takes the gradient.
            ForPlanes(planes, h * w, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int plane) =>
            {
                int xo = plane * h * w, yo = plane * ho * wo;
                Array.Clear(G, xo, h * w);
                for (int oy = 0; oy < ho; oy++)
                {
                    int r0 = xo + 2 * oy * w, r1 = r0 + w;
                    for (int ox = 0; ox < wo; ox++)
                    {
                        int a = r0 + 2 * ox, b = r1 + 2 * ox, best = a;
                        double bv = X[a];
                        if (X[a + 1] > bv) { best = a + 1; bv = X[a + 1]; }
                        if (X[b] > bv) { best = b; bv = X[b]; }
                        if (X[b + 1] > bv) best = b + 1;
                        G[best] = D[yo + oy * wo + ox];
                    }
                }
            });
            return dx;
        }
        int kh = p.Kernel[0], kw = p.Kernel[1], sy = p.Stride[0], sx = p.Stride[1], py = p.Padding[0], px = p.Padding[1];
        double inv = 1.0 / (kh * kw);
        ForPlanes(planes, h * w, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int plane) =>
        {
            int xo = plane * h * w, yo = plane * ho * wo;
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++)
                {
                    double d = D[yo + oy * wo + ox];
                    int best = -1; double bv = 0;
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
                            if (best < 0 || (p.Kind == PoolKind.Max ? X[i] > bv : X[i] < bv) || double.IsNaN(X[i])) { best = i; bv = X[i]; }
                        }
                    }
                    if (best >= 0) G[best] += d;
                }
        });
        return dx;
    }
}
