using System.Numerics;

namespace GraphNet;

/// <summary>Hyper-parameters shared by the convolution ops: (height, width) pairs and groups.</summary>
public sealed record ConvParams(int[] Stride, int[] Padding, int[] Dilation, int Groups)
{
    public IEnumerable<(string, object?)> Attributes() =>
        [("stride", Stride), ("padding", Padding), ("dilation", Dilation), ("groups", Groups)];

    /// <summary>
    /// Output size of a convolution along axis i (0 = height, 1 = width); 0 when the dilated kernel does not fit
    /// the padded input (C#'s division truncates a negative span toward zero, which would give 1).
    /// </summary>
    public int OutSize(int i, int inSize, int k) =>
        inSize + 2 * Padding[i] - Dilation[i] * (k - 1) - 1 is var span and >= 0 ? span / Stride[i] + 1 : 0;

    /// <summary>Output size of a transposed convolution along axis i.</summary>
    public int TransposedSize(int i, int inSize, int k, int outputPadding) =>
        (inSize - 1) * Stride[i] - 2 * Padding[i] + Dilation[i] * (k - 1) + outputPadding + 1;

    public bool Equals(ConvParams? o) => o is not null && Stride.SequenceEqual(o.Stride) && Padding.SequenceEqual(o.Padding) && Dilation.SequenceEqual(o.Dilation) && Groups == o.Groups;
    public override int GetHashCode() => HashCode.Combine(Stride[0], Stride[1], Padding[0], Padding[1], Dilation[0], Dilation[1], Groups);
}

/// <summary>2-D convolution (cross-correlation, as PyTorch): x [N,C,H,W], w [Cout, C/groups, kh, kw].</summary>
public sealed record Conv2dOp(ConvParams P) : Op
{
    public override string Name => "conv2d";
    public override IEnumerable<(string, object?)> Attributes() => P.Attributes();

    public override TensorType[] InferTypes(TensorType[] x)
    {
        ExpectInputs(Name, x, 2); ExpectFloat(Name, x[0]); ExpectSameDType(Name, x[0], x[1]);
        Shape s = x[0].Shape, w = x[1].Shape;
        if (s.Rank != 4) throw Error($"conv2d expects input [N,C,H,W], got {s}");
        if (w.Rank != 4) throw Error($"conv2d expects weight [Cout,Cin/groups,kh,kw], got {w}");
        if (s[1] != w[1] * P.Groups) throw Error($"conv2d: input has {Shape.Dim(s[1])} channels but weight {w} with groups={P.Groups} expects {w[1] * P.Groups}");
        if (w[0] % P.Groups != 0) throw Error($"conv2d: {w[0]} output channels are not divisible by groups={P.Groups}");
        int ho = P.OutSize(0, s[2], w[2]), wo = P.OutSize(1, s[3], w[3]);
        if (ho <= 0 || wo <= 0) throw Error($"conv2d: kernel {w[2]}x{w[3]} does not fit input {s[2]}x{s[3]} with padding [{string.Join(",", P.Padding)}]");
        return [new TensorType(x[0].DType, new Shape(s[0], w[0], ho, wo))];
    }

    public override Tensor?[] Gradient(GradContext g)
    {
        Tensor x = g.X[0], w = g.X[1];
        Shape xs = x.Shape, ws = w.Shape, ys = g.Y.Shape;
        var outPad = new[] { xs[2] - P.TransposedSize(0, ys[2], ws[2], 0), xs[3] - P.TransposedSize(1, ys[3], ws[3], 0) };
        var dx = g.Needs(0) ? g.Graph.Add1(new ConvTranspose2dOp(P, outPad), [g.Dy, w]) : null;
        var dw = g.Needs(1) ? g.Graph.Add1(new Conv2dFilterGradOp(P, ws[2], ws[3]), [x, g.Dy]) : null;
        return [dx, dw];
    }

    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x) =>
        [x[0].DType == DType.Float32 ? ConvReference.Forward<float>(x[0], x[1], P) : ConvReference.Forward<double>(x[0], x[1], P)];
}

/// <summary>Transposed 2-D convolution: x [N,Cin,H,W], w [Cin, Cout/groups, kh, kw] (PyTorch's layout).</summary>
public sealed record ConvTranspose2dOp(ConvParams P, int[] OutputPadding) : Op
{
    public override string Name => "conv_transpose2d";
    public override IEnumerable<(string, object?)> Attributes() => P.Attributes().Append(("output_padding", OutputPadding));

    public override TensorType[] InferTypes(TensorType[] x)
    {
        ExpectInputs(Name, x, 2); ExpectFloat(Name, x[0]); ExpectSameDType(Name, x[0], x[1]);
        Shape s = x[0].Shape, w = x[1].Shape;
        if (s.Rank != 4 || w.Rank != 4) throw Error($"conv_transpose2d expects input [N,Cin,H,W] and weight [Cin,Cout/groups,kh,kw], got {s} and {w}");
        if (s[1] != w[0]) throw Error($"conv_transpose2d: input has {Shape.Dim(s[1])} channels but weight {w} expects {w[0]}");
        for (int i = 0; i < 2; i++)
            if (OutputPadding[i] < 0 || OutputPadding[i] >= Math.Max(P.Stride[i], P.Dilation[i]))
                throw Error($"conv_transpose2d: output_padding {OutputPadding[i]} must be smaller than stride or dilation");
        int ho = P.TransposedSize(0, s[2], w[2], OutputPadding[0]), wo = P.TransposedSize(1, s[3], w[3], OutputPadding[1]);
        if (ho <= 0 || wo <= 0) throw Error($"conv_transpose2d: output would be {ho}x{wo}");
        return [new TensorType(x[0].DType, new Shape(s[0], w[1] * P.Groups, ho, wo))];
    }

    public override Tensor?[] Gradient(GradContext g)
    {
        Tensor x = g.X[0], w = g.X[1];
        var dx = g.Needs(0) ? g.Graph.Add1(new Conv2dOp(P), [g.Dy, w]) : null;
        // An output padding of at least the stride (allowed below the dilation) adds output rows past the last
        // input's reach, and the convolution back gives an input row for them too: there is no such input.
        for (int axis = 2; dx is not null && axis < 4; axis++)
            if (dx.Shape[axis] > x.Shape[axis]) dx = F.Slice(dx, axis, 0, x.Shape[axis]);
        var dw = g.Needs(1) ? g.Graph.Add1(new Conv2dFilterGradOp(P, w.Shape[2], w.Shape[3]), [g.Dy, x]) : null;
        return [dx, dw];
    }

    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x) =>
        [x[0].DType == DType.Float32 ? ConvReference.Transposed<float>(x[0], x[1], P, OutputPadding) : ConvReference.Transposed<double>(x[0], x[1], P, OutputPadding)];
}

/// <summary>The weight gradient of conv2d: from x [N,C,H,W] and dy [N,Cout,Ho,Wo] to dw [Cout,C/groups,kh,kw].</summary>
public sealed record Conv2dFilterGradOp(ConvParams P, int KH, int KW) : Op
{
    public override string Name => "conv2d_filter_grad";
    public override IEnumerable<(string, object?)> Attributes() => P.Attributes().Append(("kernel", new[] { KH, KW }));

    public override TensorType[] InferTypes(TensorType[] x)
    {
        ExpectInputs(Name, x, 2); ExpectSameDType(Name, x[0], x[1]);
        return [new TensorType(x[0].DType, new Shape(x[1].Shape[1], x[0].Shape[1] / P.Groups, KH, KW))];
    }

    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x) =>
        [x[0].DType == DType.Float32 ? ConvReference.FilterGrad<float>(x[0], x[1], P, KH, KW) : ConvReference.FilterGrad<double>(x[0], x[1], P, KH, KW)];
}

/// <summary>Obviously-correct convolution loops: the oracle for the runtime's fast kernels.</summary>
public static class ConvReference
{
    public static NDArray Forward<T>(NDArray x, NDArray w, ConvParams p) where T : IFloatingPointIeee754<T>
    {
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], wd = x.Shape[3];
        int co = w.Shape[0], cg = w.Shape[1], kh = w.Shape[2], kw = w.Shape[3], og = co / p.Groups;
        int ho = p.OutSize(0, h, kh), wo = p.OutSize(1, wd, kw);
        var y = NDArray.Zeros(x.DType, n, co, ho, wo);
        T[] X = x.As<T>(), W = w.As<T>(), Y = y.As<T>();
        for (int b = 0; b < n; b++)
            for (int o = 0; o < co; o++)
            {
                int gi = o / og;
                for (int oy = 0; oy < ho; oy++)
                    for (int ox = 0; ox < wo; ox++)
                    {
                        T s = T.Zero;
                        for (int ci = 0; ci < cg; ci++)
                            for (int ky = 0; ky < kh; ky++)
                            {
                                int iy = oy * p.Stride[0] - p.Padding[0] + ky * p.Dilation[0];
                                if (iy < 0 || iy >= h) continue;
                                for (int kx = 0; kx < kw; kx++)
                                {
                                    int ix = ox * p.Stride[1] - p.Padding[1] + kx * p.Dilation[1];
                                    if (ix < 0 || ix >= wd) continue;
                                    s += X[((b * c + gi * cg + ci) * h + iy) * wd + ix] * W[((o * cg + ci) * kh + ky) * kw + kx];
                                }
                            }
                        Y[((b * co + o) * ho + oy) * wo + ox] = s;
                    }
            }
        return y;
    }

    public static NDArray Transposed<T>(NDArray x, NDArray w, ConvParams p, int[] outputPadding) where T : IFloatingPointIeee754<T>
    {
        int n = x.Shape[0], ci = x.Shape[1], h = x.Shape[2], wd = x.Shape[3];
        int cog = w.Shape[1], kh = w.Shape[2], kw = w.Shape[3], cig = ci / p.Groups, co = cog * p.Groups;
        int ho = p.TransposedSize(0, h, kh, outputPadding[0]), wo = p.TransposedSize(1, wd, kw, outputPadding[1]);
        var y = NDArray.Zeros(x.DType, n, co, ho, wo);
        T[] X = x.As<T>(), W = w.As<T>(), Y = y.As<T>();
        for (int b = 0; b < n; b++)
            for (int i = 0; i < ci; i++)
            {
                int gi = i / cig;
                for (int iy = 0; iy < h; iy++)
                    for (int ix = 0; ix < wd; ix++)
                    {
                        T v = X[((b * ci + i) * h + iy) * wd + ix];
                        for (int o = 0; o < cog; o++)
                            for (int ky = 0; ky < kh; ky++)
                            {
                                int oy = iy * p.Stride[0] - p.Padding[0] + ky * p.Dilation[0];
                                if (oy < 0 || oy >= ho) continue;
                                for (int kx = 0; kx < kw; kx++)
                                {
                                    int ox = ix * p.Stride[1] - p.Padding[1] + kx * p.Dilation[1];
                                    if (ox < 0 || ox >= wo) continue;
                                    Y[((b * co + gi * cog + o) * ho + oy) * wo + ox] += v * W[((i * cog + o) * kh + ky) * kw + kx];
                                }
                            }
                    }
            }
        return y;
    }

    public static NDArray FilterGrad<T>(NDArray x, NDArray dy, ConvParams p, int kh, int kw) where T : IFloatingPointIeee754<T>
    {
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], wd = x.Shape[3];
        int co = dy.Shape[1], ho = dy.Shape[2], wo = dy.Shape[3], cg = c / p.Groups, og = co / p.Groups;
        var dw = NDArray.Zeros(x.DType, co, cg, kh, kw);
        T[] X = x.As<T>(), D = dy.As<T>(), G = dw.As<T>();
        for (int o = 0; o < co; o++)
            for (int ci = 0; ci < cg; ci++)
                for (int ky = 0; ky < kh; ky++)
                    for (int kx = 0; kx < kw; kx++)
                    {
                        T s = T.Zero;
                        int xc = (o / og) * cg + ci;
                        // A padded position adds dy times zero, as PyTorch's im2col products do: a NaN or an
                        // infinity in dy there makes the weight's gradient NaN.
                        for (int b = 0; b < n; b++)
                            for (int oy = 0; oy < ho; oy++)
                            {
                                int iy = oy * p.Stride[0] - p.Padding[0] + ky * p.Dilation[0];
                                for (int ox = 0; ox < wo; ox++)
                                {
                                    int ix = ox * p.Stride[1] - p.Padding[1] + kx * p.Dilation[1];
                                    bool inside = iy >= 0 && iy < h && ix >= 0 && ix < wd;
                                    s += D[((b * co + o) * ho + oy) * wo + ox] * (inside ? X[((b * c + xc) * h + iy) * wd + ix] : T.Zero);
                                }
                            }
                        G[((o * cg + ci) * kh + ky) * kw + kx] = s;
                    }
        return dw;
    }
}
