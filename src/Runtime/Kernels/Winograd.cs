using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GraphNet.Runtime.Kernels;

/// <summary>
/// 3×3, stride-1 convolutions and both their gradients by Winograd's minimal filtering
/// F(2×2, 3×3) (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016):
/// each 2×2 output tile costs 16 multiplies per channel pair instead of 36.
///
/// A 4×4 input tile d and a 3×3 filter g give the tile Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A. Summed over
/// input channels, the products become 16 independent GEMMs, one per position ξ of the 4×4
/// transformed tile: M[ξ] (Cout × tiles) = U[ξ] (Cout × C) · V[ξ] (C × tiles). The gradients
/// are the same algebra run backwards: dM = A dY Aᵀ, dU[ξ] = dM[ξ]·V[ξ]ᵀ (the weight gradient,
/// then Gᵀ dU G), and the data gradient (a transposed convolution) is a forward Winograd
/// convolution with the filters flipped and their channel axes swapped.
///
/// The transforms run 16 tiles at a time in Vector512 lanes along a tile row: a row of the 4×4
/// tiles is read as even and odd columns of the input row (tiles overlap by two columns).
/// Work is split over cores by (sample, band of tile rows); each core keeps its own scratch.
/// </summary>
public static unsafe class Winograd
{
    private const int Lanes = 16;
    /// <summary>Tiles per band of tile rows: a band's transformed tiles (16·C·tiles floats, and 16·8·tiles of M) stay in L2.</summary>
    private const int TilesPerBand = 192;

    /// <summary>Whether F(2×2,3×3) serves this convolution: 3×3, stride 1, no dilation or groups, and channels enough to make the 16 GEMMs worth it.</summary>
    public static bool Applies(int inChannels, int outChannels, int kh, int kw, ConvParams p) =>
        kh == 3 && kw == 3 && p.Groups == 1 && p.Stride[0] == 1 && p.Stride[1] == 1 && p.Dilation[0] == 1 && p.Dilation[1] == 1
        && inChannels >= 16 && outChannels >= 16 && Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    [ThreadStatic] private static float[]? scratch, partials;

    /// <summary>
    /// The last transform of each weight array (one as is, one flipped for the data gradient),
    /// with a copy of the weights it was made from: inference passes the same weights every
    /// call, and transforming a 64×32 filter bank costs about as much as a batch-1
    /// convolution's GEMMs. Training changes the weights each step, which the comparison sees at
    /// once (it stops at the first difference); the arrays are then rewritten in place, so steps
    /// do not allocate. (Two threads convolving with one weight array while it changes would
    /// race here, but they would already race on the weights.)
    /// </summary>
    private sealed class FilterCache
    {
        public readonly float[][] Weights = [[], []];
        /// <summary>Where U = G g Gᵀ is made before packing (kept to reuse, not read afterwards).</summary>
        public readonly float[][] Transformed = [[], []];
        /// <summary>U as GEMM A panels, one block of <see cref="Gemm.RowPanelFloats"/>(Co, C) per ξ: what the convolutions read.</summary>
        public readonly float[][] Packed = [[], []];
    }

    private static readonly ConditionalWeakTable<float[], FilterCache> filterCache = new();

    /// <summary>U for these weights (as is, or flipped for the data gradient), packed as A panels per ξ.</summary>
    private static float[] PackedFilters(float[] w, int co, int c, bool flip)
    {
        int size = co * c * 9, slot = flip ? 1 : 0, block = Gemm.RowPanelFloats(co, c);
        var entry = filterCache.GetOrCreateValue(w);
        lock (entry)
        {
            ref var weights = ref entry.Weights[slot];
            ref var u = ref entry.Transformed[slot];
            ref var packed = ref entry.Packed[slot];
            if (weights.Length == size && u.Length == 16 * co * c && packed.Length == 16 * block && w.AsSpan(0, size).SequenceEqual(weights)) return packed;
            if (weights.Length != size) weights = new float[size];
            if (u.Length != 16 * co * c) u = new float[16 * co * c];
            if (packed.Length != 16 * block) packed = new float[16 * block];
            w.AsSpan(0, size).CopyTo(weights);
            fixed (float* wp = w) fixed (float* up = u) fixed (float* pp = packed)
            {
                TransformFilters(wp, up, co, c, flip);
                for (int xi = 0; xi < 16; xi++) Gemm.PackRowPanels(up + xi * co * c, c, co, c, pp + (long)xi * block);
            }
            return packed;
        }
    }

    /// <summary>A worker's transformed tiles and row buffers (reused across calls: no allocation per step).</summary>
    private static float[] Scratch(int size) => scratch is { } s && s.Length >= size ? s : scratch = new float[size];

    /// <summary>The calling thread's per-chunk gradient sums.</summary>
    private static float[] Buffer(ref float[]? cache, int size) => cache is { } b && b.Length >= size ? b : cache = new float[size];

    /// <summary>Scratch floats for one band: its transformed tiles (16 planes of C and of Cout rows) and eight padded rows.</summary>
    private static int ScratchFloats(Layout l, int ld) => 16 * (Plane(l.C, ld) + Plane(l.Co, ld)) + 8 * RowWidth(l);

    /// <summary>
    /// Floats from one ξ plane to the next: its rows plus a cache line, so that the 16 planes a
    /// transform touches at once do not fall into the same L1 set (plain C·ld floats is often a
    /// multiple of 4 KiB: 32·160·4 bytes is, and made every transform miss).
    /// </summary>
    private static int Plane(int rows, int ld) => rows * ld + Lanes;

    /// <summary>A padded input row: the columns the tiles read, room for the last vector loads, a whole number of vectors.</summary>
    private static int RowWidth(Layout l) => (2 * l.TW + 2 + 2 * Lanes + Lanes - 1) / Lanes * Lanes;

    private readonly record struct Layout(int N, int C, int H, int W, int Co, int HO, int WO, int PadY, int PadX)
    {
        public int TH => (HO + 1) / 2;
        public int TW => (WO + 1) / 2;
    }

    /// <summary>y[N,Co,HO,WO] = conv2d(x[N,C,H,W], w[Co,C,3,3]) with the given padding.</summary>
    public static void Forward(float* x, float[] w, float* y, int n, int c, int h, int wd, int co, int padY, int padX)
    {
        var l = new Layout(n, c, h, wd, co, h + 2 * padY - 2, wd + 2 * padX - 2, padY, padX);
        Run(l, PackedFilters(w, co, c, flip: false), x, y);
    }

    /// <summary>
    /// y[N,Co,HO,WO] = conv_transpose2d(x[N,C,H,W], w[C,Co,3,3]) for stride 1 and padding p ≤ 2:
    /// a convolution with padding 2−p by the filters flipped, input and output channels swapped.
    /// </summary>
    public static void Transposed(float* x, float[] w, float* y, int n, int c, int h, int wd, int co, int padY, int padX)
    {
        var l = new Layout(n, c, h, wd, co, h + 2 - 2 * padY, wd + 2 - 2 * padX, 2 - padY, 2 - padX);
        Run(l, PackedFilters(w, co, c, flip: true), x, y);
    }

    /// <summary>dw[Co,C,3,3] = Σ over samples and positions of dy[n,co,oy,ox]·x[n,c,oy−pY+ky,ox−pX+kx].</summary>
    public static void FilterGrad(float* x, float* dy, float* dw, int n, int c, int h, int wd, int co, int ho, int wo, int padY, int padX)
    {
        var l = new Layout(n, c, h, wd, co, ho, wo, padY, padX);
        var (bandRows, bands, workers) = Split(l);
        int ld = bandRows * l.TW + Lanes;
        int acc = 16 * co * c, items = n * bands, chunks = Work.ReductionChunks(items, workers);
        // One partial sum per chunk of items, added in chunk order: the same bits on every run.
        var partial = Buffer(ref partials, chunks * acc);
        Array.Clear(partial, 0, chunks * acc);
        nint X = (nint)x, DY = (nint)dy;
        fixed (float* pp = partial)
        {
            nint P = (nint)pp;
            Work.Chunks(items, chunks, workers, (chunk, lo, hi) =>
            {
                var s = Scratch(ScratchFloats(l, ld));
                fixed (float* sp = s)
                {
                    float* v = sp, dm = sp + 16 * Plane(c, ld), rows = dm + 16 * Plane(co, ld);
                    float* mine = (float*)P + (long)chunk * acc;
                    for (int item = lo; item < hi; item++)
                    {
                        int b = item / bands, ty0 = item % bands * bandRows, ty1 = Math.Min(l.TH, ty0 + bandRows);
                        int tiles = (ty1 - ty0) * l.TW;
                        InputTiles(l, (float*)X + (long)b * c * h * wd, ty0, ty1, v, ld, rows);
                        OutputGradTiles(l, (float*)DY + (long)b * co * ho * wo, ty0, ty1, dm, ld, rows);
                        for (int xi = 0; xi < 16; xi++)
                            Gemm.Sgemm(false, true, co, c, tiles, 1f, dm + (long)xi * Plane(co, ld), ld, v + (long)xi * Plane(c, ld), ld,
                                1f, mine + xi * co * c, c, parallel: false);
                    }
                }
            });
            for (int t = 1; t < chunks; t++) Vec.Add(new Span<float>(pp, acc), new Span<float>(pp + (long)t * acc, acc), new Span<float>(pp, acc));
            FilterGradFromTiles(pp, dw, co, c);
        }
    }

    /// <summary>Splits the tile rows into bands: big enough for the GEMMs, small enough for L2, and enough work items for every core.</summary>
    private static (int BandRows, int Bands, int Workers) Split(Layout l)
    {
        int bandRows = Math.Clamp(TilesPerBand / l.TW, 1, l.TH);
        int cores = Environment.ProcessorCount;
        long work = (long)l.N * l.TH * l.TW * 16 * l.C * l.Co;
        int workers = work < Gemm.ParallelThreshold ? 1 : cores;
        if (workers > 1 && l.N < workers) bandRows = Math.Max(1, Math.Min(bandRows, (l.TH + workers - 1) / workers));
        int bands = (l.TH + bandRows - 1) / bandRows;
        return (bandRows, bands, Math.Min(workers, l.N * bands));
    }

    /// <summary>
    /// The forward pass over every (sample, band): input transform, V packed as B panels once per
    /// ξ, then for each block of 8 output channels its 16 products (straight from the packed U)
    /// and its output transform. Only one channel block of M exists at a time (16·8 rows, not
    /// 16·Cout), so a band's working set stays in L2 with both cores busy.
    /// </summary>
    private static void Run(Layout l, float[] packedU, float* x, float* y)
    {
        var (bandRows, bands, workers) = Split(l);
        int ld = bandRows * l.TW + Lanes;
        int maxTiles = bandRows * l.TW, aBlock = Gemm.RowPanelFloats(l.Co, l.C), bBlock = Gemm.ColumnPanelFloats(l.C, maxTiles);
        int mPlane = Plane(Gemm.PanelRows, ld);
        int scratch = 16 * Plane(l.C, ld) + 16 * bBlock + 16 * mPlane + 8 * RowWidth(l);
        nint X = (nint)x, Y = (nint)y;
        fixed (float* up = packedU)
        {
            nint U = (nint)up;
            Work.Dynamic(l.N * bands, workers, (_, item) =>
            {
                var s = Scratch(scratch);
                fixed (float* sp = s)
                {
                    float* v = sp, vp = v + 16 * Plane(l.C, ld), m = vp + 16 * bBlock, rows = m + 16 * mPlane;
                    int b = item / bands, ty0 = item % bands * bandRows, ty1 = Math.Min(l.TH, ty0 + bandRows);
                    int tiles = (ty1 - ty0) * l.TW, panels = (tiles + Gemm.PanelColumns - 1) / Gemm.PanelColumns;
                    InputTiles(l, (float*)X + (long)b * l.C * l.H * l.W, ty0, ty1, v, ld, rows);
                    for (int xi = 0; xi < 16; xi++) Gemm.PackColumnPanels(v + (long)xi * Plane(l.C, ld), ld, l.C, tiles, vp + (long)xi * bBlock);
                    float* yb = (float*)Y + (long)b * l.Co * l.HO * l.WO;
                    for (int o0 = 0; o0 < l.Co; o0 += Gemm.PanelRows)
                    {
                        int mr = Math.Min(Gemm.PanelRows, l.Co - o0);
                        for (int xi = 0; xi < 16; xi++)
                        {
                            float* a = (float*)U + (long)xi * aBlock + (long)o0 * l.C;
                            for (int j = 0; j < panels; j++)
                                Gemm.MultiplyPanels(l.C, a, vp + (long)xi * bBlock + (long)j * Gemm.PanelColumns * l.C,
                                    m + (long)xi * mPlane + j * Gemm.PanelColumns, ld, mr, Math.Min(Gemm.PanelColumns, tiles - j * Gemm.PanelColumns));
                        }
                        OutputTiles(l, m, ld, mPlane, o0, o0 + mr, ty0, ty1, yb);
                    }
                }
            });
        }
    }

    /// <summary>U[ξ][o][i] = (G g Gᵀ)[ξ] for g = w[o,i] (or, flipped, for g = w[i,o] rotated 180°).</summary>
    private static void TransformFilters(float* w, float* u, int co, int c, bool flip)
    {
        int plane = co * c;
        float* g = stackalloc float[9];
        float* t = stackalloc float[12];
        for (int o = 0; o < co; o++)
            for (int i = 0; i < c; i++)
            {
                float* src = flip ? w + ((long)i * co + o) * 9 : w + ((long)o * c + i) * 9;
                for (int k = 0; k < 9; k++) g[k] = flip ? src[8 - k] : src[k];
                // Rows: t = G g (4×3), then columns: U = t Gᵀ (4×4). G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1].
                for (int col = 0; col < 3; col++)
                {
                    float g0 = g[col], g1 = g[3 + col], g2 = g[6 + col];
                    t[col] = g0; t[3 + col] = 0.5f * (g0 + g1 + g2); t[6 + col] = 0.5f * (g0 - g1 + g2); t[9 + col] = g2;
                }
                for (int r = 0; r < 4; r++)
                {
                    float a = t[3 * r], b = t[3 * r + 1], d = t[3 * r + 2];
                    long at = (long)o * c + i;
                    u[(4 * r + 0) * plane + at] = a;
                    u[(4 * r + 1) * plane + at] = 0.5f * (a + b + d);
                    u[(4 * r + 2) * plane + at] = 0.5f * (a - b + d);
                    u[(4 * r + 3) * plane + at] = d;
                }
            }
    }

    /// <summary>dw[o,i] = Gᵀ dU[·][o][i] G (3×3 from the 4×4 transformed gradient).</summary>
    private static void FilterGradFromTiles(float* du, float* dw, int co, int c)
    {
        int plane = co * c;
        float* t = stackalloc float[12];
        for (int o = 0; o < co; o++)
            for (int i = 0; i < c; i++)
            {
                long at = (long)o * c + i;
                // Columns first: t[r][b] = Σ_l dU[r][l] G[l][b]; then rows: dw[a][b] = Σ_r G[r][a] t[r][b].
                for (int r = 0; r < 4; r++)
                {
                    float d0 = du[(4 * r) * plane + at], d1 = du[(4 * r + 1) * plane + at], d2 = du[(4 * r + 2) * plane + at], d3 = du[(4 * r + 3) * plane + at];
                    t[3 * r] = d0 + 0.5f * (d1 + d2); t[3 * r + 1] = 0.5f * (d1 - d2); t[3 * r + 2] = 0.5f * (d1 + d2) + d3;
                }
                float* dst = dw + at * 9;
                for (int b = 0; b < 3; b++)
                {
                    float r0 = t[b], r1 = t[3 + b], r2 = t[6 + b], r3 = t[9 + b];
                    dst[b] = r0 + 0.5f * (r1 + r2); dst[3 + b] = 0.5f * (r1 - r2); dst[6 + b] = 0.5f * (r1 + r2) + r3;
                }
            }
    }

    /// <summary>
    /// V[ξ][c][t] = (Bᵀ d B)[ξ] for the 4×4 input tile d of every tile t in tile rows [ty0, ty1).
    /// Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]. Rows of the tile are combined first over whole
    /// (zero-padded) input rows, then the columns 16 tiles at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InputTiles(Layout l, float* x, int ty0, int ty1, float* v, int ld, float* rows)
    {
        int width = RowWidth(l); // padded row: column j is input column j − PadX
        float* e0 = rows, e1 = rows + width, e2 = rows + 2 * width, e3 = rows + 3 * width, padded = rows + 4 * width;
        // Input row iy lives in padded[iy mod 4]: consecutive tile rows share two input rows, so
        // each row is copied once. Only the image's columns are ever written, so the padding
        // columns stay zero; a row outside the image is cleared whole.
        new Span<float>(padded, 4 * width).Clear();
        int plane = Plane(l.C, ld);
        for (int ci = 0; ci < l.C; ci++)
        {
            float* xc = x + (long)ci * l.H * l.W;
            for (int ty = ty0; ty < ty1; ty++)
            {
                int iy = 2 * ty - l.PadY;
                if (ty == ty0) { LoadRow(l, xc, iy, padded, width); LoadRow(l, xc, iy + 1, padded, width); }
                LoadRow(l, xc, iy + 2, padded, width); LoadRow(l, xc, iy + 3, padded, width);
                float* r0 = padded + (iy & 3) * width, r1 = padded + ((iy + 1) & 3) * width;
                float* r2 = padded + ((iy + 2) & 3) * width, r3 = padded + ((iy + 3) & 3) * width;
                for (int j = 0; j < width; j += Lanes)
                {
                    var a0 = Vector512.Load(r0 + j); var a1 = Vector512.Load(r1 + j); var a2 = Vector512.Load(r2 + j); var a3 = Vector512.Load(r3 + j);
                    Vector512.Store(a0 - a2, e0 + j); Vector512.Store(a1 + a2, e1 + j); Vector512.Store(a2 - a1, e2 + j); Vector512.Store(a1 - a3, e3 + j);
                }
                float* dst = v + (long)ci * ld + (ty - ty0) * l.TW;
                for (int tx = 0; tx < l.TW; tx += Lanes)
                {
                    Columns(e0 + 2 * tx, dst + tx, 0 * plane, plane);
                    Columns(e1 + 2 * tx, dst + tx, 4 * plane, plane);
                    Columns(e2 + 2 * tx, dst + tx, 8 * plane, plane);
                    Columns(e3 + 2 * tx, dst + tx, 12 * plane, plane);
                }
            }
        }
    }

    /// <summary>The column half of Bᵀ d B for 16 tiles of one combined row e: writes ξ = k·4 + 0..3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns(float* e, float* dst, long first, int plane)
    {
        var lo = Vector512.Load(e); var hi = Vector512.Load(e + 16);
        var lo2 = Vector512.Load(e + 2); var hi2 = Vector512.Load(e + 18);
        var (even, odd) = Pairs.Split(lo, hi);
        var (even2, odd2) = Pairs.Split(lo2, hi2);
        Vector512.Store(even - even2, dst + first);
        Vector512.Store(odd + even2, dst + first + plane);
        Vector512.Store(even2 - odd, dst + first + 2 * plane);
        Vector512.Store(odd - odd2, dst + first + 3 * plane);
    }

    /// <summary>Input row iy of one channel into its padded buffer (iy mod 4), at column iy's padding offset; zeros outside the image.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LoadRow(Layout l, float* xc, int iy, float* padded, int width)
    {
        float* row = padded + (iy & 3) * width;
        if (iy < 0 || iy >= l.H) { new Span<float>(row, width).Clear(); return; }
        // Columns the tiles read: −PadX .. 2·TW+1−PadX; copy the part inside the image.
        int count = Math.Min(l.W, 2 * l.TW + 2 - l.PadX);
        if (count > 0) new ReadOnlySpan<float>(xc + (long)iy * l.W, count).CopyTo(new Span<float>(row + l.PadX, count));
    }

    /// <summary>
    /// y tile = Aᵀ m A for every tile of output channels [o0, o1) (row o − o0 of each ξ plane of
    /// m), Aᵀ = [1 1 1 0; 0 1 −1 −1], 16 tiles at a time; each pair of output rows is written
    /// whole (interleaving the even and odd columns), clipped at the edges.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OutputTiles(Layout l, float* m, int ld, int plane, int o0, int o1, int ty0, int ty1, float* y)
    {
        float* spill = stackalloc float[2 * Lanes];
        for (int o = o0; o < o1; o++)
        {
            float* yo = y + (long)o * l.HO * l.WO;
            for (int ty = ty0; ty < ty1; ty++)
                for (int tx = 0; tx < l.TW; tx += Lanes)
                {
                    float* src = m + (long)(o - o0) * ld + (ty - ty0) * l.TW + tx;
                    Vector512<float> s0, s1, s2, s3, d0, d1, d2, d3;
                    {
                        var m0 = Vector512.Load(src); var m1 = Vector512.Load(src + 4 * plane); var m2 = Vector512.Load(src + 8 * plane); var m3 = Vector512.Load(src + 12 * plane);
                        s0 = m0 + m1 + m2; d0 = m1 - m2 - m3;
                    }
                    {
                        var m0 = Vector512.Load(src + plane); var m1 = Vector512.Load(src + 5 * plane); var m2 = Vector512.Load(src + 9 * plane); var m3 = Vector512.Load(src + 13 * plane);
                        s1 = m0 + m1 + m2; d1 = m1 - m2 - m3;
                    }
                    {
                        var m0 = Vector512.Load(src + 2 * plane); var m1 = Vector512.Load(src + 6 * plane); var m2 = Vector512.Load(src + 10 * plane); var m3 = Vector512.Load(src + 14 * plane);
                        s2 = m0 + m1 + m2; d2 = m1 - m2 - m3;
                    }
                    {
                        var m0 = Vector512.Load(src + 3 * plane); var m1 = Vector512.Load(src + 7 * plane); var m2 = Vector512.Load(src + 11 * plane); var m3 = Vector512.Load(src + 15 * plane);
                        s3 = m0 + m1 + m2; d3 = m1 - m2 - m3;
                    }
                    int count = Math.Min(2 * Lanes, l.WO - 2 * tx);
                    StoreRow(yo + (long)(2 * ty) * l.WO + 2 * tx, s0 + s1 + s2, s1 - s2 - s3, count, spill);
                    if (2 * ty + 1 < l.HO) StoreRow(yo + (long)(2 * ty + 1) * l.WO + 2 * tx, d0 + d1 + d2, d1 - d2 - d3, count, spill);
                }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* dst, Vector512<float> even, Vector512<float> odd, int count, float* spill)
    {
        var (lo, hi) = Pairs.Join(even, odd);
        if (count == 2 * Lanes) { Vector512.Store(lo, dst); Vector512.Store(hi, dst + Lanes); return; }
        Vector512.Store(lo, spill); Vector512.Store(hi, spill + Lanes);
        new ReadOnlySpan<float>(spill, count).CopyTo(new Span<float>(dst, count));
    }

    /// <summary>
    /// dM[ξ][o][t] = (A dY Aᵀ)[ξ] for the 2×2 output-gradient tile of every tile t, A = [1 0; 1 1; 1 −1; 0 −1]:
    /// rows f = (dy₀, dy₀+dy₁, dy₀−dy₁, −dy₁), then columns (e, e+o, e−o, −o) of each.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OutputGradTiles(Layout l, float* dy, int ty0, int ty1, float* dm, int ld, float* rows)
    {
        int width = RowWidth(l);
        float* r0 = rows, r1 = rows + width;
        int plane = Plane(l.Co, ld);
        for (int o = 0; o < l.Co; o++)
        {
            float* yo = dy + (long)o * l.HO * l.WO;
            for (int ty = ty0; ty < ty1; ty++)
            {
                new Span<float>(r0, 2 * width).Clear();
                new ReadOnlySpan<float>(yo + (long)(2 * ty) * l.WO, l.WO).CopyTo(new Span<float>(r0, l.WO));
                if (2 * ty + 1 < l.HO) new ReadOnlySpan<float>(yo + (long)(2 * ty + 1) * l.WO, l.WO).CopyTo(new Span<float>(r1, l.WO));
                float* dst = dm + (long)o * ld + (ty - ty0) * l.TW;
                for (int tx = 0; tx < l.TW; tx += Lanes)
                {
                    var a = Vector512.Load(r0 + 2 * tx); var b = Vector512.Load(r0 + 2 * tx + 16);
                    var c = Vector512.Load(r1 + 2 * tx); var d = Vector512.Load(r1 + 2 * tx + 16);
                    var (e0, o0) = Pairs.Split(a, b);
                    var (e1, o1) = Pairs.Split(c, d);
                    GradColumns(e0, o0, dst + tx, 0, plane);
                    GradColumns(e0 + e1, o0 + o1, dst + tx, 4L * plane, plane);
                    GradColumns(e0 - e1, o0 - o1, dst + tx, 8L * plane, plane);
                    GradColumns(-e1, -o1, dst + tx, 12L * plane, plane);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GradColumns(Vector512<float> even, Vector512<float> odd, float* dst, long first, int plane)
    {
        Vector512.Store(even, dst + first);
        Vector512.Store(even + odd, dst + first + plane);
        Vector512.Store(even - odd, dst + first + 2 * plane);
        Vector512.Store(-odd, dst + first + 3 * plane);
    }
}
