using ILGPU;
using ILGPU.Runtime;

namespace GraphNet.Runtime.Devices;

/// <summary>
/// Launches the library kernels for the ops that map to them (matmul, the convolutions, pooling,
/// softmax) on one accelerator, with a workspace for convolution columns. One per executable,
/// since the workspace is per step.
/// </summary>
public sealed class DeviceLibrary : IDisposable
{
    private readonly Accelerator accelerator;
    private readonly Action<KernelConfig, GemmArgs> gemmTiled;
    private readonly Action<AcceleratorStream, Index1D, GemmArgs> gemmBlocked;
    private readonly Action<AcceleratorStream, Index1D, ConvArgs> im2col, col2im;
    private readonly Action<AcceleratorStream, Index1D, PoolArgs> poolForward, poolBackward;
    private readonly Action<AcceleratorStream, Index1D, SoftmaxArgs> softmax;
    private MemoryBuffer1D<float, Stride1D.Dense>? workspace;

    public DeviceLibrary(Accelerator accelerator)
    {
        this.accelerator = accelerator;
        gemmTiled = accelerator.LoadStreamKernel<GemmArgs>(DeviceKernels.GemmTiled);
        gemmBlocked = accelerator.LoadAutoGroupedKernel<Index1D, GemmArgs>(DeviceKernels.GemmBlocked);
        im2col = accelerator.LoadAutoGroupedKernel<Index1D, ConvArgs>(DeviceKernels.Im2Col);
        col2im = accelerator.LoadAutoGroupedKernel<Index1D, ConvArgs>(DeviceKernels.Col2Im);
        poolForward = accelerator.LoadAutoGroupedKernel<Index1D, PoolArgs>(DeviceKernels.PoolForward);
        poolBackward = accelerator.LoadAutoGroupedKernel<Index1D, PoolArgs>(DeviceKernels.PoolBackward);
        softmax = accelerator.LoadAutoGroupedKernel<Index1D, SoftmaxArgs>(DeviceKernels.Softmax);
        // The CPU accelerator's group barriers are OS-level waits, so there the register-blocked kernel is far faster.
        UseTiledGemm = accelerator.AcceleratorType != AcceleratorType.CPU;
    }

    /// <summary>Shared-memory tiles (GPUs) or register blocks (the CPU accelerator); tests exercise both.</summary>
    public bool UseTiledGemm { get; set; }

    private int Extent(long size) => Devices.Extent(accelerator, size);

    public void Gemm(GemmArgs a)
    {
        if (a.M == 0 || a.N == 0) return;
        var stream = accelerator.DefaultStream;
        if (UseTiledGemm)
        {
            int t = accelerator.MaxNumThreadsPerGroup >= 256 ? 16 : accelerator.MaxNumThreadsPerGroup >= 64 ? 8 : 4;
            long tiles = (long)((a.M + t - 1) / t) * ((a.N + t - 1) / t) * (a.SumBatches != 0 ? 1 : a.Batches);
            int groups = (int)Math.Max(1, Math.Min(tiles, Math.Max(1, accelerator.MaxNumThreads / (t * t))));
            a.Tile = t; a.Stride = groups;
            gemmTiled(new KernelConfig(new Index1D(groups), new Index1D(t * t), SharedMemoryConfig.RequestDynamic<float>(2 * t * t)), a);
        }
        else
        {
            long blocks = (long)((a.M + 3) / 4) * ((a.N + 3) / 4) * (a.SumBatches != 0 ? 1 : a.Batches);
            a.Stride = Extent(blocks);
            gemmBlocked(stream, a.Stride, a);
        }
    }

    private ArrayView<float> Workspace(long elements)
    {
        if (workspace is null || workspace.Length < elements)
        {
            workspace?.Dispose();
            workspace = accelerator.Allocate1D<float>(Math.Max(elements, (workspace?.Length ?? 0) * 3 / 2));
        }
        return workspace.View.SubView(0, elements);
    }

    public void MatMul(MatMulOp op, int[] aShape, int[] bShape, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c)
    {
        int m = op.TransA ? aShape[^1] : aShape[^2], k = op.TransA ? aShape[^2] : aShape[^1];
        int n = op.TransB ? bShape[^2] : bShape[^1];
        int batches = aShape.Take(aShape.Length - 2).Aggregate(1, (p, d) => p * d);
        Gemm(new GemmArgs
        {
            A = a, ABatch = m * k, ARow = op.TransA ? 1 : k, ACol = op.TransA ? m : 1,
            B = b, BBatch = bShape.Length == 2 ? 0 : k * n, BRow = op.TransB ? 1 : n, BCol = op.TransB ? k : 1,
            C = c, CBatch = op.SumBatch ? 0 : m * n, M = m, N = n, K = k, Batches = batches, SumBatches = op.SumBatch ? 1 : 0,
        });
    }

    private ConvArgs Geometry(ConvParams p, int n, int c, int h, int w, int kh, int kw, int oh, int ow) => new()
    {
        N = n, C = c, H = h, W = w, KH = kh, KW = kw, OH = oh, OW = ow,
        StrideH = p.Stride[0], StrideW = p.Stride[1], PadH = p.Padding[0], PadW = p.Padding[1], DilH = p.Dilation[0], DilW = p.Dilation[1],
    };

    private void Unfold(ConvArgs g, ArrayView<float> x, ArrayView<float> cols)
    {
        g.Src = x; g.Dst = cols; g.Size = g.N * g.C * g.KH * g.KW * g.OH * g.OW; g.Stride = Extent(g.Size);
        im2col(accelerator.DefaultStream, g.Stride, g);
    }

    /// <summary>conv2d: columns of x, then per group W_g [og, Cg·kk] × cols_n,g [Cg·kk, OH·OW] for every sample.</summary>
    public void Conv2d(ConvParams p, int[] xs, int[] ws, int[] ys, ArrayView<float> x, ArrayView<float> w, ArrayView<float> y)
    {
        int n = xs[0], c = xs[1], co = ws[0], kk = ws[2] * ws[3], pix = ys[2] * ys[3], g = p.Groups, og = co / g, cgkk = c / g * kk;
        var cols = Workspace((long)n * c * kk * pix);
        Unfold(Geometry(p, n, c, xs[2], xs[3], ws[2], ws[3], ys[2], ys[3]), x, cols);
        for (int gi = 0; gi < g; gi++)
            Gemm(new GemmArgs
            {
                A = w, AOff = gi * og * cgkk, ARow = cgkk, ACol = 1,
                B = cols, BOff = gi * cgkk * pix, BBatch = c * kk * pix, BRow = pix, BCol = 1,
                C = y, COff = gi * og * pix, CBatch = co * pix, M = og, N = pix, K = cgkk, Batches = n,
            });
    }

    /// <summary>conv_transpose2d (conv2d's data gradient): per group W_gᵀ × x_n,g into columns, then col2im.</summary>
    public void ConvTranspose2d(ConvParams p, int[] xs, int[] ws, int[] ys, ArrayView<float> x, ArrayView<float> w, ArrayView<float> y)
    {
        int n = xs[0], ci = xs[1], h = xs[2], wd = xs[3], cog = ws[1], kh = ws[2], kw = ws[3], g = p.Groups, cig = ci / g, co = cog * g;
        int pix = h * wd, rows = co * kh * kw;
        var cols = Workspace((long)n * rows * pix);
        for (int gi = 0; gi < g; gi++)
            Gemm(new GemmArgs
            {
                A = w, AOff = gi * cig * cog * kh * kw, ARow = 1, ACol = cog * kh * kw,
                B = x, BOff = gi * cig * pix, BBatch = ci * pix, BRow = pix, BCol = 1,
                C = cols, COff = gi * cog * kh * kw * pix, CBatch = rows * pix, M = cog * kh * kw, N = pix, K = cig, Batches = n,
            });
        var geo = Geometry(p, n, co, ys[2], ys[3], kh, kw, h, wd);
        geo.Src = cols; geo.Dst = y; geo.Size = n * co * ys[2] * ys[3]; geo.Stride = Extent(geo.Size);
        col2im(accelerator.DefaultStream, geo.Stride, geo);
    }

    /// <summary>conv2d's weight gradient: dW_g = Σ_n dy_n,g [og, OH·OW] × cols_n,gᵀ.</summary>
    public void FilterGrad(Conv2dFilterGradOp op, int[] xs, int[] dys, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dw)
    {
        var p = op.P;
        int n = xs[0], c = xs[1], co = dys[1], kk = op.KH * op.KW, pix = dys[2] * dys[3], g = p.Groups, og = co / g, cgkk = c / g * kk;
        var cols = Workspace((long)n * c * kk * pix);
        Unfold(Geometry(p, n, c, xs[2], xs[3], op.KH, op.KW, dys[2], dys[3]), x, cols);
        for (int gi = 0; gi < g; gi++)
            Gemm(new GemmArgs
            {
                A = dy, AOff = gi * og * pix, ABatch = co * pix, ARow = pix, ACol = 1,
                B = cols, BOff = gi * cgkk * pix, BBatch = c * kk * pix, BRow = 1, BCol = pix,
                C = dw, COff = gi * og * cgkk, M = og, N = cgkk, K = pix, Batches = n, SumBatches = 1,
            });
    }

    private static PoolArgs Pool(PoolParams p, int[] xs, int[] ys) => new()
    {
        Planes = xs[0] * xs[1], H = xs[2], W = xs[3], OH = ys[2], OW = ys[3], KH = p.Kernel[0], KW = p.Kernel[1],
        StrideH = p.Stride[0], StrideW = p.Stride[1], PadH = p.Padding[0], PadW = p.Padding[1],
        Kind = p.Kind switch { PoolKind.Max => 0, PoolKind.Min => 1, _ => 2 },
    };

    public void Pool2d(PoolParams p, int[] xs, int[] ys, ArrayView<float> x, ArrayView<float> y)
    {
        var a = Pool(p, xs, ys);
        a.X = x; a.Y = y; a.Size = a.Planes * a.OH * a.OW; a.Stride = Extent(a.Size);
        poolForward(accelerator.DefaultStream, a.Stride, a);
    }

    public void Pool2dGrad(PoolParams p, int[] xs, int[] dys, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx)
    {
        var a = Pool(p, xs, dys);
        a.X = x; a.Dy = dy; a.Y = dx; a.Size = a.Planes * a.H * a.W; a.Stride = Extent(a.Size);
        poolBackward(accelerator.DefaultStream, a.Stride, a);
    }

    public void Softmax(SoftmaxOp op, int[] xs, ArrayView<float> x, ArrayView<float> y)
    {
        int axis = op.Axis < 0 ? op.Axis + xs.Length : op.Axis;
        int outer = xs.Take(axis).Aggregate(1, (p, d) => p * d), inner = xs.Skip(axis + 1).Aggregate(1, (p, d) => p * d);
        var a = new SoftmaxArgs { X = x, Y = y, Outer = outer, Length = xs[axis], Inner = inner, Log = op.Log ? 1 : 0, Size = outer * inner };
        a.Stride = Extent(a.Size);
        softmax(accelerator.DefaultStream, a.Stride, a);
    }

    public void Dispose() => workspace?.Dispose();
}
