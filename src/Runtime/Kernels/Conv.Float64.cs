using System.Runtime.CompilerServices;

namespace GraphNet.Runtime.Kernels;

/// <summary>
/// Float64 convolutions: im2col per sample and <see cref="Dgemm"/> (a float64 model trains at the
/// speed of its GEMMs, not of the reference loops); the float32 algorithms' shapes, without
/// Winograd's or the direct kernel's float-only code.
/// </summary>
public static partial class Conv
{
    [ThreadStatic] private static double[]? colBuffer64;

    private static double[] Col64(int size) => colBuffer64 is { } b && b.Length >= size ? b : colBuffer64 = new double[size];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static NDArray Forward64(NDArray x, NDArray w, ConvParams p, NDArray? into, NDArray? bias, bool relu)
    {
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], wd = x.Shape[3];
        int co = w.Shape[0], kh = w.Shape[2], kw = w.Shape[3], g = p.Groups, cg = c / g, og = co / g;
        var geo = new Geometry(cg, h, wd, kh, kw, p.OutSize(0, h, kh), p.OutSize(1, wd, kw), p);
        var y = into ?? NDArray.Zeros(DType.Float64, n, co, geo.HO, geo.WO);
        double[] X = x.As<double>(), Wt = w.As<double>(), Y = y.As<double>();
        long work = (long)co * geo.ColRows * geo.ColCols;
        bool gemmParallel = Workers(n, work) == 1;
        ForSamples(n, work, b =>
        {
            var col = Col64(geo.ColRows * geo.ColCols);
            for (int gi = 0; gi < g; gi++)
            {
                Im2Col<double>(X.AsSpan((b * c + gi * cg) * h * wd, cg * h * wd), geo, col);
                Dgemm.Run(false, false, og, geo.ColCols, geo.ColRows, 1.0, Wt.AsSpan(gi * og * geo.ColRows), geo.ColRows,
                    col, geo.ColCols, 0.0, Y.AsSpan((b * co + gi * og) * geo.ColCols), geo.ColCols, parallel: gemmParallel);
            }
        });
        if (bias is null && !relu) return y;
        int plane = geo.HO * geo.WO;
        for (int i = 0; i < Y.Length; i++)
        {
            double v = bias is null ? Y[i] : Y[i] + bias.GetDouble(i / plane % co);
            Y[i] = relu && v < 0 ? 0 : v;
        }
        return y;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static NDArray Transposed64(NDArray x, NDArray w, ConvParams p, int[] outputPadding, NDArray? into)
    {
        int n = x.Shape[0], ci = x.Shape[1], h = x.Shape[2], wd = x.Shape[3];
        int cog = w.Shape[1], kh = w.Shape[2], kw = w.Shape[3], g = p.Groups, cig = ci / g, co = cog * g;
        int ho = p.TransposedSize(0, h, kh, outputPadding[0]), wo = p.TransposedSize(1, wd, kw, outputPadding[1]);
        var geo = new Geometry(cog, ho, wo, kh, kw, h, wd, p);
        var y = into ?? NDArray.Zeros(DType.Float64, n, co, ho, wo);
        double[] X = x.As<double>(), Wt = w.As<double>(), Y = y.As<double>();
        long work = (long)cig * geo.ColRows * geo.ColCols;
        bool gemmParallel = Workers(n, work) == 1;
        ForSamples(n, work, b =>
        {
            var col = Col64(geo.ColRows * geo.ColCols);
            for (int gi = 0; gi < g; gi++)
            {
                Dgemm.Run(true, false, geo.ColRows, geo.ColCols, cig, 1.0, Wt.AsSpan(gi * cig * geo.ColRows), geo.ColRows,
                    X.AsSpan((b * ci + gi * cig) * h * wd), h * wd, 0.0, col, geo.ColCols, parallel: gemmParallel);
                Col2Im<double>(col, geo, Y.AsSpan((b * co + gi * cog) * ho * wo, cog * ho * wo));
            }
        });
        return y;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static NDArray FilterGrad64(NDArray x, NDArray dy, ConvParams p, int kh, int kw, NDArray? into)
    {
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], wd = x.Shape[3];
        int co = dy.Shape[1], g = p.Groups, cg = c / g, og = co / g;
        var geo = new Geometry(cg, h, wd, kh, kw, dy.Shape[2], dy.Shape[3], p);
        int wsize = co * geo.ColRows;
        double[] X = x.As<double>(), D = dy.As<double>();
        var dw = into ?? NDArray.Zeros(DType.Float64, co, cg, kh, kw);
        var result = dw.As<double>();
        int workers = Workers(n, (long)co * geo.ColRows * geo.ColCols);
        // Chunks in a fixed order, each its own sum, added in chunk order: the same bits on any thread schedule.
        int chunks = Work.ReductionChunks(n, workers);
        var partial = new double[chunks][];
        for (int t = 0; t < chunks; t++) partial[t] = t == 0 ? result : new double[wsize];
        Array.Clear(result, 0, wsize);
        Work.Chunks(n, chunks, workers, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (chunk, lo, hi) =>
        {
            var col = Col64(geo.ColRows * geo.ColCols);
            for (int b = lo; b < hi; b++)
                for (int gi = 0; gi < g; gi++)
                {
                    Im2Col<double>(X.AsSpan((b * c + gi * cg) * h * wd, cg * h * wd), geo, col);
                    Dgemm.Run(false, true, og, geo.ColRows, geo.ColCols, 1.0, D.AsSpan((b * co + gi * og) * geo.ColCols), geo.ColCols,
                        col, geo.ColCols, 1.0, partial[chunk].AsSpan(gi * og * geo.ColRows), geo.ColRows, parallel: workers == 1);
                }
        });
        for (int t = 1; t < chunks; t++)
            for (int i = 0; i < wsize; i++) result[i] += partial[t][i];
        return dw;
    }
}
