using System.Numerics;

namespace GraphNet;

public enum PoolKind { Max, Min, Avg }

/// <summary>Window geometry of a 2-D pooling op ((height, width) pairs).</summary>
public sealed record PoolParams(PoolKind Kind, int[] Kernel, int[] Stride, int[] Padding)
{
    public IEnumerable<(string, object?)> Attributes() => [("kernel", Kernel), ("stride", Stride), ("padding", Padding)];
    /// <summary>Output size along axis i; 0 when the window does not fit the padded input.</summary>
    public int OutSize(int i, int inSize) => inSize + 2 * Padding[i] - Kernel[i] is var span and >= 0 ? span / Stride[i] + 1 : 0;
    public string OpName => Kind.ToString().ToLowerInvariant() + "_pool2d";

    public bool Equals(PoolParams? o) => o is not null && Kind == o.Kind && Kernel.SequenceEqual(o.Kernel) && Stride.SequenceEqual(o.Stride) && Padding.SequenceEqual(o.Padding);
    public override int GetHashCode() => HashCode.Combine(Kind, Kernel[0], Kernel[1], Stride[0], Stride[1], Padding[0], Padding[1]);
}

/// <summary>max_pool2d, min_pool2d or avg_pool2d over [N,C,H,W] (avg counts padding, as PyTorch's default).</summary>
public sealed record Pool2dOp(PoolParams P) : Op
{
    public override string Name => P.OpName;
    public override IEnumerable<(string, object?)> Attributes() => P.Attributes();

    public override TensorType[] InferTypes(TensorType[] x)
    {
        ExpectInputs(Name, x, 1); ExpectFloat(Name, x[0]);
        var s = x[0].Shape;
        if (s.Rank != 4) throw Error($"{Name} expects [N,C,H,W], got {s}");
        for (int i = 0; i < 2; i++)
            if (P.Padding[i] * 2 > P.Kernel[i]) throw Error($"{Name}: padding {P.Padding[i]} must be at most half the kernel {P.Kernel[i]}");
        int ho = P.OutSize(0, s[2]), wo = P.OutSize(1, s[3]);
        if (ho <= 0 || wo <= 0) throw Error($"{Name}: kernel {P.Kernel[0]}x{P.Kernel[1]} does not fit input {s[2]}x{s[3]}");
        return [x[0] with { Shape = new Shape(s[0], s[1], ho, wo) }];
    }

    public override Tensor?[] Gradient(GradContext g) => [g.Graph.Add1(new Pool2dGradOp(P), [g.X[0], g.Dy])];

    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x) =>
        [x[0].DType == DType.Float32 ? PoolReference.Forward<float>(x[0], P) : PoolReference.Forward<double>(x[0], P)];
}

/// <summary>Gradient of a pooling op: from (x, dy) to dx. Max/min route dy to the first extreme in each window.</summary>
public sealed record Pool2dGradOp(PoolParams P) : Op
{
    public override string Name => P.OpName + "_grad";
    public override IEnumerable<(string, object?)> Attributes() => P.Attributes();
    public override TensorType[] InferTypes(TensorType[] x) { ExpectInputs(Name, x, 2); return [x[0]]; }

    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x) =>
        [x[0].DType == DType.Float32 ? PoolReference.Backward<float>(x[0], x[1], P) : PoolReference.Backward<double>(x[0], x[1], P)];
}

public static class PoolReference
{
    public static NDArray Forward<T>(NDArray x, PoolParams p) where T : IFloatingPointIeee754<T>
    {
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3], ho = p.OutSize(0, h), wo = p.OutSize(1, w);
        var y = NDArray.Zeros(x.DType, n, c, ho, wo);
        T[] X = x.As<T>(), Y = y.As<T>();
        T count = T.CreateChecked(p.Kernel[0] * p.Kernel[1]);
        for (int plane = 0; plane < n * c; plane++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++)
                {
                    T acc = p.Kind == PoolKind.Max ? T.NegativeInfinity : p.Kind == PoolKind.Min ? T.PositiveInfinity : T.Zero;
                    for (int ky = 0; ky < p.Kernel[0]; ky++)
                        for (int kx = 0; kx < p.Kernel[1]; kx++)
                        {
                            int iy = oy * p.Stride[0] - p.Padding[0] + ky, ix = ox * p.Stride[1] - p.Padding[1] + kx;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                            T v = X[(plane * h + iy) * w + ix];
                            // PyTorch: NaN wins a max or min window (it propagates), and the last NaN takes the gradient.
                            acc = p.Kind switch
                            {
                                PoolKind.Max => v > acc || T.IsNaN(v) ? v : acc, PoolKind.Min => v < acc || T.IsNaN(v) ? v : acc, _ => acc + v,
                            };
                        }
                    Y[(plane * ho + oy) * wo + ox] = p.Kind == PoolKind.Avg ? acc / count : acc;
                }
        return y;
    }

    public static NDArray Backward<T>(NDArray x, NDArray dy, PoolParams p) where T : IFloatingPointIeee754<T>
    {
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3], ho = dy.Shape[2], wo = dy.Shape[3];
        var dx = NDArray.Zeros(x.DType, x.Shape);
        T[] X = x.As<T>(), D = dy.As<T>(), G = dx.As<T>();
        T count = T.CreateChecked(p.Kernel[0] * p.Kernel[1]);
        for (int plane = 0; plane < n * c; plane++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++)
                {
                    T d = D[(plane * ho + oy) * wo + ox];
                    int best = -1; T bv = T.Zero;
                    for (int ky = 0; ky < p.Kernel[0]; ky++)
                        for (int kx = 0; kx < p.Kernel[1]; kx++)
                        {
                            int iy = oy * p.Stride[0] - p.Padding[0] + ky, ix = ox * p.Stride[1] - p.Padding[1] + kx;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                            int i = (plane * h + iy) * w + ix;
                            if (p.Kind == PoolKind.Avg) { G[i] += d / count; continue; }
                            if (best < 0 || (p.Kind == PoolKind.Max ? X[i] > bv : X[i] < bv) || T.IsNaN(X[i])) { best = i; bv = X[i]; }
                        }
                    if (best >= 0) G[best] += d;
                }
        return dx;
    }
}
