using System.Runtime.CompilerServices;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
namespace GraphNet.Runtime.Kernels;

/// <summary>
/// How a convolution is computed: <see cref="Auto"/> takes the direct kernel for inputs of up to
/// 4 channels, Winograd where it applies (4×4 tiles, or 2×2 on images smaller than 8×8 out), and
/// im2col otherwise.
/// </summary>
public enum ConvAlgorithm { Auto, Im2Col, Direct, Winograd2x2, Winograd4x4 }

/// <summary>
/// Convolution and its two gradients on top of <see cref="Gemm"/>, by im2col per sample, or by
/// <see cref="Winograd"/> F(4×4,3×3) or F(2×2,3×3) for 3×3 stride-1 convolutions with enough
/// channels (4× or 2.25× fewer multiplies). Samples are spread over cores; each worker reuses one column buffer.
/// </summary>
public static unsafe partial class Conv
{
    private readonly record struct Geometry(int C, int H, int W, int KH, int KW, int HO, int WO, ConvParams P)
    {
        public int ColRows => C * KH * KW;
        public int ColCols => HO * WO;
    }

    // Scratch arrays per element type, per thread (a closed generic type's [ThreadStatic] fields are its own).
    private static class Scratch<T>
    {
        [ThreadStatic] public static T[]? Col;
        [ThreadStatic] public static T[]? Gathered;
        [ThreadStatic] public static T[][]? Partials;
    }

    private static T[] Col<T>(int size) => Scratch<T>.Col is { } b && b.Length >= size ? b : Scratch<T>.Col = new T[size];

    /// <summary>A second scratch array: a group's GEMM product, or its operand gathered from the samples' planes.</summary>
    private static T[] Gathered<T>(int size) => Scratch<T>.Gathered is { } b && b.Length >= size ? b : Scratch<T>.Gathered = new T[size];

    /// <summary>
    /// Samples whose columns go side by side into one GEMM. One sample's are too few when its
    /// output planes are small (DCGAN's 8×8, 4×4 and 1×1): a GEMM per sample then re-packed the
    /// whole filter bank (512×4,096 floats) to multiply it by 16 columns. Groups bring the columns
    /// to about 256 (the column matrix kept under 16 MB); grouped convolutions keep one sample.
    /// </summary>
    private static int SamplesPerGemm(Geometry geo, int n, int groups)
    {
        if (groups != 1 || geo.ColCols >= 256) return 1;
        int wanted = (256 + geo.ColCols - 1) / geo.ColCols;
        long fit = Math.Max(1, (4L << 20) / ((long)geo.ColRows * geo.ColCols));
        return (int)Math.Clamp(Math.Min(wanted, fit), 1, n);
    }

    /// <summary>
    /// y[N,Cout,Ho,Wo] = conv2d(x[N,C,H,W], w[Cout,C/g,kh,kw]), then, when given, plus bias[Cout] per
    /// channel and ReLU (Winograd applies them as it stores each tile; the other algorithms in a
    /// pass over each output plane).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static NDArray Forward(NDArray x, NDArray w, ConvParams p, NDArray? into = null, ConvAlgorithm algorithm = ConvAlgorithm.Auto,
        NDArray? bias = null, bool relu = false)
    {
        if (bias is not null && bias.Size != w.Shape[0])
            throw new ArgumentException($"conv2d bias has {bias.Size} values for {w.Shape[0]} output channels");
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], wd = x.Shape[3];
        int co = w.Shape[0], kh = w.Shape[2], kw = w.Shape[3], g = p.Groups, cg = c / g;
        var geo = new Geometry(cg, h, wd, kh, kw, p.OutSize(0, h, kh), p.OutSize(1, wd, kw), p);
        var y = into ?? NDArray.Zeros(x.DType, n, co, geo.HO, geo.WO);
        if (x.DType == DType.Float64) // im2col only: the direct and Winograd kernels are float32's
        {
            ForwardByColumns(x.As<double>(), w.As<double>(), y.As<double>(), n, c, co, g, geo);
            return BiasRelu64(y, bias, relu);
        }
        float[] X = x.As<float>(), Wt = w.As<float>(), Y = y.As<float>();
        if (UseDirect(algorithm, c, kh, kw, p))
        {
            DirectConv.Forward(X, Wt, Y, n, c, h, wd, co, kh, kw, p.Padding[0], p.Padding[1]);
            return BiasRelu(y, bias, relu);
        }
        if (WinogradTileFor(algorithm, c, co, kh, kw, p, geo.HO, geo.WO) is { } tile)
        {
            fixed (float* px = X) fixed (float* py = Y) fixed (float* pb = bias?.As<float>())
                Winograd.Forward(px, Wt, py, n, c, h, wd, co, p.Padding[0], p.Padding[1], tile, pb, relu);
            return y;
        }
        ForwardByColumns(X, Wt, Y, n, c, co, g, geo);
        return BiasRelu(y, bias, relu);
    }

    /// <summary>
    /// The columns of samples b0 .. b0+count side by side (each pix = Ho·Wo wide, rows
    /// <paramref name="width"/> apart), from their channels first .. first+geo.C of c.
    /// </summary>
    private static void GroupColumns<T>(T[] x, int b0, int count, int c, int first, Geometry geo, T[] col, int width)
        where T : unmanaged, INumberBase<T>
    {
        int plane = geo.H * geo.W;
        for (int s = 0; s < count; s++)
            Im2Col<T>(x.AsSpan(((b0 + s) * c + first) * plane, geo.C * plane), geo, col.AsSpan(s * geo.ColCols), width);
    }

    /// <summary>
    /// Planes first .. first+planes (of <paramref name="perSample"/>, pix long) of samples b0 .. b0+count,
    /// gathered into the rows of a [planes, count·pix] matrix (a group's GEMM operand), or scattered back from it.
    /// </summary>
    private static void SideBySide<T>(T[] samples, int b0, int count, int perSample, int first, int planes, int pix, T[] matrix, bool gather)
    {
        int width = count * pix;
        for (int s = 0; s < count; s++)
            for (int p = 0; p < planes; p++)
            {
                var plane = samples.AsSpan(((b0 + s) * perSample + first + p) * pix, pix);
                var row = matrix.AsSpan(p * width + s * pix, pix);
                if (gather) plane.CopyTo(row); else row.CopyTo(plane);
            }
    }

    /// <summary>
    /// The convolution by im2col and one GEMM per group of channels, in either float type: a sample
    /// at a time, or several side by side (<see cref="SamplesPerGemm"/>) with the product then
    /// copied out to each sample's planes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardByColumns<T>(T[] X, T[] Wt, T[] Y, int n, int c, int co, int g, Geometry geo)
        where T : unmanaged, INumberBase<T>
    {
        int cg = c / g, og = co / g, pix = geo.ColCols, group = SamplesPerGemm(geo, n, g);
        int groups = (n + group - 1) / group;
        long work = (long)co * geo.ColRows * pix * group;
        bool gemmParallel = Workers(groups, work) == 1; // too few groups to spread: split each GEMM instead
        ForSamples(groups, work, gi =>
        {
            int b0 = gi * group, count = Math.Min(group, n - b0), width = count * pix;
            var col = Col<T>(geo.ColRows * width);
            for (int gr = 0; gr < g; gr++)
            {
                GroupColumns(X, b0, count, c, gr * cg, geo, col, width);
                var w = Wt.AsSpan(gr * og * geo.ColRows);
                if (group == 1)
                {
                    Gemm.Typed<T>(false, false, og, pix, geo.ColRows, w, geo.ColRows, col, pix, 0f,
                        Y.AsSpan((b0 * co + gr * og) * pix), pix, gemmParallel);
                    continue;
                }
                var product = Gathered<T>(og * width); // [og, samples·pix]
                Gemm.Typed<T>(false, false, og, width, geo.ColRows, w, geo.ColRows, col, width, 0f, product, width, gemmParallel);
                SideBySide(Y, b0, count, co, gr * og, og, pix, product, gather: false);
            }
        });
    }

    /// <summary>
    /// Transposed convolution (= conv2d's data gradient): x[N,Cin,H,W], w[Cin,Cout/g,kh,kw] to
    /// y[N,Cout,Ho,Wo], by a GEMM into columns and col2im.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static NDArray Transposed(NDArray x, NDArray w, ConvParams p, int[] outputPadding, NDArray? into = null, ConvAlgorithm algorithm = ConvAlgorithm.Auto)
    {
        int n = x.Shape[0], ci = x.Shape[1], h = x.Shape[2], wd = x.Shape[3];
        int cog = w.Shape[1], kh = w.Shape[2], kw = w.Shape[3], g = p.Groups, cig = ci / g, co = cog * g;
        int ho = p.TransposedSize(0, h, kh, outputPadding[0]), wo = p.TransposedSize(1, wd, kw, outputPadding[1]);
        // Geometry of the forward convolution this transposes: input [cog, ho, wo], output [cig, h, wd].
        var geo = new Geometry(cog, ho, wo, kh, kw, h, wd, p);
        var y = into ?? NDArray.Zeros(x.DType, n, co, ho, wo);
        if (x.DType == DType.Float64)
        {
            TransposedByColumns(x.As<double>(), w.As<double>(), y.As<double>(), n, ci, g, geo);
            return y;
        }
        float[] X = x.As<float>(), Wt = w.As<float>(), Y = y.As<float>();
        // Stride 1 without output padding: a convolution with padding 2 − p by the flipped filters.
        string? unsupported = outputPadding[0] != 0 || outputPadding[1] != 0 ? $"output padding {outputPadding[0]}x{outputPadding[1]}"
            : p.Padding[0] > 2 || p.Padding[1] > 2 ? $"padding {p.Padding[0]}x{p.Padding[1]} (at most 2)" : null;
        if (WinogradTileFor(algorithm, ci, co, kh, kw, p, ho, wo, unsupported) is { } tile)
        {
            fixed (float* px = X) fixed (float* py = Y)
                Winograd.Transposed(px, Wt, py, n, ci, h, wd, co, p.Padding[0], p.Padding[1], tile);
            return y;
        }
        TransposedByColumns(X, Wt, Y, n, ci, g, geo);
        return y;
    }

    /// <summary>
    /// The transposed convolution by a GEMM into columns and col2im, a sample or a group of samples
    /// at a time (their inputs gathered side by side first), in either float type;
    /// <paramref name="geo"/> is the forward convolution it transposes (input [C/g, H, W] = this output).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransposedByColumns<T>(T[] X, T[] Wt, T[] Y, int n, int ci, int g, Geometry geo)
        where T : unmanaged, INumberBase<T>
    {
        int cig = ci / g, cog = geo.C, co = cog * g, pix = geo.HO * geo.WO, outPlane = geo.H * geo.W;
        int group = SamplesPerGemm(geo, n, g), groups = (n + group - 1) / group;
        long work = (long)cig * geo.ColRows * pix * group;
        bool gemmParallel = Workers(groups, work) == 1;
        ForSamples(groups, work, gi =>
        {
            int b0 = gi * group, count = Math.Min(group, n - b0), width = count * pix;
            var col = Col<T>(geo.ColRows * width);
            for (int gr = 0; gr < g; gr++)
            {
                ReadOnlySpan<T> x = X.AsSpan((b0 * ci + gr * cig) * pix);
                if (group > 1)
                {
                    var gathered = Gathered<T>(cig * width); // [cig, samples·pix]
                    SideBySide(X, b0, count, ci, gr * cig, cig, pix, gathered, gather: true);
                    x = gathered;
                }
                Gemm.Typed<T>(true, false, geo.ColRows, width, cig, Wt.AsSpan(gr * cig * geo.ColRows), geo.ColRows,
                    x, width, 0f, col, width, gemmParallel);
                for (int s = 0; s < count; s++)
                    Col2Im<T>(col.AsSpan(s * pix), geo, Y.AsSpan(((b0 + s) * co + gr * cog) * outPlane, cog * outPlane), width);
            }
        });
    }

    /// <summary>dw[Cout,C/g,kh,kw] = Σ over samples of dy_n · col(x_n)ᵀ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static NDArray FilterGrad(NDArray x, NDArray dy, ConvParams p, int kh, int kw, NDArray? into = null, ConvAlgorithm algorithm = ConvAlgorithm.Auto)
    {
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], wd = x.Shape[3];
        int co = dy.Shape[1], g = p.Groups, cg = c / g;
        var geo = new Geometry(cg, h, wd, kh, kw, dy.Shape[2], dy.Shape[3], p);
        var dw = into ?? NDArray.Zeros(x.DType, co, cg, kh, kw);
        if (x.DType == DType.Float64)
        {
            FilterGradByColumns(x.As<double>(), dy.As<double>(), dw.As<double>(), n, c, co, g, geo);
            return dw;
        }
        float[] X = x.As<float>(), D = dy.As<float>();
        var result = dw.As<float>();
        if (UseDirect(algorithm, c, kh, kw, p))
        {
            DirectConv.FilterGrad(X, D, result, n, c, h, wd, co, kh, kw, p.Padding[0], p.Padding[1], geo.HO, geo.WO);
            return dw;
        }
        if (WinogradTileFor(algorithm, c, co, kh, kw, p, geo.HO, geo.WO) is { } tile)
        {
            fixed (float* px = X) fixed (float* pd = D) fixed (float* pg = result)
                Winograd.FilterGrad(px, pd, pg, n, c, h, wd, co, geo.HO, geo.WO, p.Padding[0], p.Padding[1], tile);
            return dw;
        }
        FilterGradByColumns(X, D, result, n, c, co, g, geo);
        return dw;
    }

    /// <summary>
    /// dw = Σ over samples of dy_n · col(x_n)ᵀ by GEMMs, a sample or a group of samples at a time
    /// (their gradients gathered side by side), in either float type.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FilterGradByColumns<T>(T[] X, T[] D, T[] result, int n, int c, int co, int g, Geometry geo)
        where T : unmanaged, INumberBase<T>
    {
        int cg = c / g, og = co / g, wsize = co * geo.ColRows, pix = geo.ColCols;
        int group = SamplesPerGemm(geo, n, g), groups = (n + group - 1) / group;
        int workers = Workers(groups, (long)co * geo.ColRows * pix * group);
        bool gemmParallel = workers == 1;
        // Chunk 0 accumulates straight into the result, the others into their own buffers, added
        // in chunk order at the end: the same bits whichever thread ran which chunk (and no
        // allocation per call once the buffers exist).
        int chunks = Kernels.Work.ReductionChunks(groups, workers);
        var partial = Partials<T>(chunks, wsize); // owned by this calling thread, one per chunk
        for (int t = 0; t < chunks; t++) Array.Clear(t == 0 ? result : partial[t], 0, wsize);
        Kernels.Work.Chunks(groups, chunks, workers, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (chunk, lo, hi) =>
        {
            T[] acc = chunk == 0 ? result : partial[chunk];
            for (int gi = lo; gi < hi; gi++)
            {
                int b0 = gi * group, count = Math.Min(group, n - b0), width = count * pix;
                var col = Col<T>(geo.ColRows * width);
                for (int gr = 0; gr < g; gr++)
                {
                    GroupColumns(X, b0, count, c, gr * cg, geo, col, width);
                    ReadOnlySpan<T> dy = D.AsSpan((b0 * co + gr * og) * pix);
                    if (group > 1)
                    {
                        var gathered = Gathered<T>(og * width); // [og, samples·pix]
                        SideBySide(D, b0, count, co, gr * og, og, pix, gathered, gather: true);
                        dy = gathered;
                    }
                    Gemm.Typed<T>(false, true, og, geo.ColRows, width, dy, width, col, width, 1f,
                        acc.AsSpan(gr * og * geo.ColRows), geo.ColRows, gemmParallel);
                }
            }
        });
        for (int t = 1; t < chunks; t++) Add<T>(result.AsSpan(0, wsize), partial[t].AsSpan(0, wsize));
    }

    /// <summary>
    /// y[n,c,·,·] = (ReLU of) y + bias[c], plane by plane over cores, by the same
    /// <see cref="ChannelEpilogue"/> Winograd applies as it stores (so every algorithm gives the
    /// same values); y unchanged when neither is asked.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static NDArray BiasRelu(NDArray y, NDArray? bias, bool relu)
    {
        if (bias is null && !relu) return y;
        int channels = y.Shape[1], plane = y.Size / (y.Shape[0] * channels);
        fixed (float* py = y.As<float>()) fixed (float* pb = bias?.As<float>())
        {
            nint Y = (nint)py, B = (nint)pb;
            Kernels.Work.Dynamic(y.Shape[0] * channels, Workers(y.Shape[0], (long)y.Size),
                [MethodImpl(MethodImplOptions.AggressiveOptimization)] (_, i) =>
            {
                var epilogue = new ChannelEpilogue((float*)B, relu);
                float* row = (float*)Y + (long)i * plane;
                int channel = i % channels, j = 0;
                for (; j + 16 <= plane; j += 16) Vector512.Store(epilogue.Apply(Vector512.Load(row + j), channel), row + j);
                if (j == plane) return;
                // The ragged end through a vector's worth of scratch.
                float* tail = stackalloc float[16];
                new ReadOnlySpan<float>(row + j, plane - j).CopyTo(new Span<float>(tail, 16));
                Vector512.Store(epilogue.Apply(Vector512.Load(tail), channel), tail);
                new ReadOnlySpan<float>(tail, plane - j).CopyTo(new Span<float>(row + j, plane - j));
            });
        }
        return y;
    }

    private static bool UseDirect(ConvAlgorithm algorithm, int inChannels, int kh, int kw, ConvParams p)
    {
        if (algorithm is not (ConvAlgorithm.Auto or ConvAlgorithm.Direct)) return false;
        bool applies = DirectConv.Applies(inChannels, kh, kw, p);
        if (algorithm == ConvAlgorithm.Direct && !applies)
            throw new ArgumentException($"the direct convolution does not apply here ({inChannels} input channels, {kh}x{kw}, stride {p.Stride[0]}x{p.Stride[1]}, dilation {p.Dilation[0]}x{p.Dilation[1]}, groups {p.Groups}): it takes stride 1 and at most 4 input channels; use ConvAlgorithm.Auto");
        return applies;
    }

    /// <summary>
    /// The Winograd tile to use, or null for another algorithm; asking for Winograd where it does
    /// not apply throws, saying why. <c>unsupported</c> is a reason this call cannot take Winograd
    /// beyond the shape rules (the transposed convolution's output padding), or null.
    /// </summary>
    private static WinogradTile? WinogradTileFor(ConvAlgorithm algorithm, int inChannels, int outChannels, int kh, int kw, ConvParams p, int ho, int wo, string? unsupported = null)
    {
        if (algorithm is not (ConvAlgorithm.Auto or ConvAlgorithm.Winograd2x2 or ConvAlgorithm.Winograd4x4)) return null;
        bool applies = unsupported is null && Winograd.Applies(inChannels, outChannels, kh, kw, p);
        if (algorithm != ConvAlgorithm.Auto && !applies)
            throw new ArgumentException($"Winograd does not apply to this convolution ({inChannels} to {outChannels} channels, {kh}x{kw}, stride {p.Stride[0]}x{p.Stride[1]}, dilation {p.Dilation[0]}x{p.Dilation[1]}, groups {p.Groups}"
                + (unsupported is null ? "" : $", {unsupported}") + "): it takes 3x3 filters, stride 1, no dilation or groups, at least 16 channels each way and AVX-512; use ConvAlgorithm.Auto");
        if (!applies) return null;
        return algorithm switch
        {
            ConvAlgorithm.Winograd2x2 => WinogradTile.F2x2,
            ConvAlgorithm.Winograd4x4 => WinogradTile.F4x4,
            _ => Winograd.Choose(ho, wo),
        };
    }

    private static T[][] Partials<T>(int chunks, int size)
    {
        var p = Scratch<T>.Partials is { } b && b.Length >= chunks ? b : Scratch<T>.Partials = new T[chunks][];
        for (int t = 1; t < chunks; t++)
            if (p[t] is null || p[t].Length < size) p[t] = new T[size];
        return p;
    }

    /// <summary>into += x, vectorized for float32.</summary>
    private static void Add<T>(Span<T> into, ReadOnlySpan<T> x) where T : unmanaged, INumberBase<T>
    {
        if (typeof(T) == typeof(float))
        {
            var f = MemoryMarshal.Cast<T, float>(into);
            Vec.Add(f, MemoryMarshal.Cast<T, float>(x), f);
        }
        else for (int i = 0; i < into.Length; i++) into[i] += x[i];
    }

    /// <summary>float64's bias and ReLU after im2col (float32's are applied by <see cref="BiasRelu"/>).</summary>
    private static NDArray BiasRelu64(NDArray y, NDArray? bias, bool relu)
    {
        if (bias is null && !relu) return y;
        var Y = y.As<double>();
        int channels = y.Shape[1], plane = y.Size / (y.Shape[0] * channels);
        for (int i = 0; i < Y.Length; i++)
        {
            double v = bias is null ? Y[i] : Y[i] + bias.GetDouble(i / plane % channels);
            Y[i] = relu && v < 0 ? 0 : v;
        }
        return y;
    }

    private static int Workers(int n, long workPerSample) =>
        workPerSample * n < Gemm.ParallelThreshold ? 1 : Math.Max(1, Math.Min(n, Environment.ProcessorCount));

    private static void ForSamples(int n, long workPerSample, Action<int> body)
    {
        Kernels.Work.Dynamic(n, Workers(n, workPerSample), [MethodImpl(MethodImplOptions.AggressiveOptimization)] (_, b) => body(b));
    }

    /// <summary>
    /// col[(c·kh+ky)·kw+kx, oy·Wo+ox] = x[c, oy·s−p+ky·d, ox·s−p+kx·d], zero outside; col's rows
    /// are <paramref name="ld"/> apart (wider than Ho·Wo when samples sit side by side).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Im2Col<T>(ReadOnlySpan<T> x, Geometry g, Span<T> col, int ld) where T : unmanaged, INumberBase<T>
    {
        var p = g.P;
        int sy = p.Stride[0], sx = p.Stride[1], py = p.Padding[0], px = p.Padding[1], dy = p.Dilation[0], dx = p.Dilation[1];
        int row = 0;
        for (int c = 0; c < g.C; c++)
            for (int ky = 0; ky < g.KH; ky++)
                for (int kx = 0; kx < g.KW; kx++, row++)
                {
                    var dst = col.Slice(row * ld, g.ColCols);
                    for (int oy = 0; oy < g.HO; oy++)
                    {
                        int iy = oy * sy - py + ky * dy;
                        var d = dst.Slice(oy * g.WO, g.WO);
                        if (iy < 0 || iy >= g.H) { d.Clear(); continue; }
                        var src = x.Slice((c * g.H + iy) * g.W, g.W);
                        int x0 = kx * dx - px;
                        if (sx == 1 && x0 >= 0 && x0 + g.WO <= g.W) { src.Slice(x0, g.WO).CopyTo(d); continue; }
                        for (int ox = 0; ox < g.WO; ox++)
                        {
                            int ix = ox * sx + x0;
                            d[ox] = ix >= 0 && ix < g.W ? src[ix] : T.Zero;
                        }
                    }
                }
    }

    /// <summary>The adjoint of <see cref="Im2Col"/>: adds columns (rows <paramref name="ld"/> apart) back into an image.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Col2Im<T>(ReadOnlySpan<T> col, Geometry g, Span<T> x, int ld) where T : unmanaged, INumberBase<T>
    {
        var p = g.P;
        int sy = p.Stride[0], sx = p.Stride[1], py = p.Padding[0], px = p.Padding[1], dy = p.Dilation[0], dx = p.Dilation[1];
        x.Clear();
        int row = 0;
        for (int c = 0; c < g.C; c++)
            for (int ky = 0; ky < g.KH; ky++)
                for (int kx = 0; kx < g.KW; kx++, row++)
                {
                    var src = col.Slice(row * ld, g.ColCols);
                    for (int oy = 0; oy < g.HO; oy++)
                    {
                        int iy = oy * sy - py + ky * dy;
                        if (iy < 0 || iy >= g.H) continue;
                        var dst = x.Slice((c * g.H + iy) * g.W, g.W);
                        var s = src.Slice(oy * g.WO, g.WO);
                        int x0 = kx * dx - px;
                        if (sx == 1 && x0 >= 0 && x0 + g.WO <= g.W)
                        {
                            Add<T>(dst.Slice(x0, g.WO), s);
                            continue;
                        }
                        for (int ox = 0; ox < g.WO; ox++)
                        {
                            int ix = ox * sx + x0;
                            if (ix >= 0 && ix < g.W) dst[ix] += s[ox];
                        }
                    }
                }
    }
}
