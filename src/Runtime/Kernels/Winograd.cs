using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GraphNet.Runtime.Kernels;

/// <summary>The output tile of a Winograd convolution: F(2×2,3×3) or F(4×4,3×3).</summary>
public enum WinogradTile { F2x2, F4x4 }

/// <summary>
/// 3×3, stride-1 convolutions and both their gradients by Winograd's minimal filtering
/// (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016), with output
/// tiles of 2×2 (16 multiplies per tile and channel pair instead of 36) or 4×4 (36 instead of 144).
///
/// An (m+2)² input tile d and a 3×3 filter g give the m×m output tile Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A.
/// Summed over input channels, the products become (m+2)² independent GEMMs, one per position ξ
/// of the transformed tile: M[ξ] (Cout × tiles) = U[ξ] (Cout × C) · V[ξ] (C × tiles). The
/// gradients are the same algebra run backwards: dM = A dY Aᵀ, dU[ξ] = dM[ξ]·V[ξ]ᵀ (the weight
/// gradient, then Gᵀ dU G), and the data gradient (a transposed convolution) is a forward
/// Winograd convolution with the filters flipped and their channel axes swapped.
///
/// This class is the part both tiles share: the filter transforms and their cache, the split into
/// bands of tile rows (bands run on across samples, so small images still give the GEMMs enough
/// columns), and the GEMMs. The tile transforms are <see cref="WinogradF2"/> and
/// <see cref="WinogradF4"/>, each a struct whose static methods the JIT compiles into the generic
/// loops here. F(4×4) does 2.25× fewer multiplies than F(2×2) but rounds a little more (its
/// transforms have entries up to 8 and 1/24) and wastes more of a small image's edge tiles.
/// </summary>
public static unsafe class Winograd
{
    /// <summary>
    /// Whether Winograd serves this convolution: 3×3, stride 1, no dilation or groups, and channels enough to
    /// make the GEMMs worth it.
    /// </summary>
    public static bool Applies(int inChannels, int outChannels, int kh, int kw, ConvParams p) =>
        kh == 3 && kw == 3 && p.Groups == 1 && p.Stride[0] == 1 && p.Stride[1] == 1 && p.Dilation[0] == 1 && p.Dilation[1] == 1
        && inChannels >= 16 && outChannels >= 16 && Simd.Shuffles;

    /// <summary>
    /// The tile <see cref="ConvAlgorithm.Auto"/> takes: 4×4 once the output is at least 8 wide and
    /// high (smaller images would compute mostly clipped tiles), else 2×2.
    /// </summary>
    public static WinogradTile Choose(int outHeight, int outWidth) => outHeight >= 8 && outWidth >= 8 ? WinogradTile.F4x4 : WinogradTile.F2x2;

    /// <summary>
    /// y[N,Co,HO,WO] = conv2d(x[N,C,H,W], w[Co,C,3,3]) with the given padding, then, when given,
    /// plus bias[Co] and ReLU: applied in the output transform, while each tile is in registers,
    /// instead of in another pass over y.
    /// </summary>
    public static void Forward(float* x, float[] w, float* y, int n, int c, int h, int wd, int co, int padY, int padX, WinogradTile tile, float* bias = null, bool relu = false)
    {
        int ho = h + 2 * padY - 2, wo = wd + 2 * padX - 2;
        var epilogue = new ChannelEpilogue(bias, relu);
        if (tile == WinogradTile.F4x4) Run<WinogradF4>(new WinogradLayout(n, c, h, wd, co, ho, wo, padY, padX, 4), w, flip: false, x, y, epilogue);
        else Run<WinogradF2>(new WinogradLayout(n, c, h, wd, co, ho, wo, padY, padX, 2), w, flip: false, x, y, epilogue);
    }

    /// <summary>
    /// y[N,Co,HO,WO] = conv_transpose2d(x[N,C,H,W], w[C,Co,3,3]) for stride 1 and padding p ≤ 2:
    /// a convolution with padding 2−p by the filters flipped, input and output channels swapped.
    /// </summary>
    public static void Transposed(float* x, float[] w, float* y, int n, int c, int h, int wd, int co, int padY, int padX, WinogradTile tile)
    {
        int ho = h + 2 - 2 * padY, wo = wd + 2 - 2 * padX;
        if (tile == WinogradTile.F4x4) Run<WinogradF4>(new WinogradLayout(n, c, h, wd, co, ho, wo, 2 - padY, 2 - padX, 4), w, flip: true, x, y, default);
        else Run<WinogradF2>(new WinogradLayout(n, c, h, wd, co, ho, wo, 2 - padY, 2 - padX, 2), w, flip: true, x, y, default);
    }

    /// <summary>dw[Co,C,3,3] = Σ over samples and positions of dy[n,co,oy,ox]·x[n,c,oy−pY+ky,ox−pX+kx].</summary>
    public static void FilterGrad(float* x, float* dy, float* dw, int n, int c, int h, int wd, int co, int ho, int wo, int padY, int padX, WinogradTile tile)
    {
        if (tile == WinogradTile.F4x4) FilterGrad<WinogradF4>(new WinogradLayout(n, c, h, wd, co, ho, wo, padY, padX, 4), x, dy, dw);
        else FilterGrad<WinogradF2>(new WinogradLayout(n, c, h, wd, co, ho, wo, padY, padX, 2), x, dy, dw);
    }

    [ThreadStatic] private static float[]? scratch, partials;

    /// <summary>
    /// The last transform of each weight array (per tile, one as is and one flipped for the data
    /// gradient), with a copy of the weights it was made from: inference passes the same weights
    /// every call, and transforming a 64×32 filter bank costs about as much as a batch-1
    /// convolution's GEMMs. Training changes the weights each step, which the comparison sees at
    /// once (it stops at the first difference); the arrays are then rewritten in place, so steps
    /// do not allocate. (Two threads convolving with one weight array while it changes would
    /// race here, but they would already race on the weights.)
    /// </summary>
    private sealed class FilterCache
    {
        public readonly float[][] Weights = [[], [], [], []];
        /// <summary>Where U = G g Gᵀ is made before packing (kept to reuse, not read afterwards).</summary>
        public readonly float[][] Transformed = [[], [], [], []];
        /// <summary>U as GEMM A panels, one block of <see cref="Gemm.RowPanelFloats"/>(Co, C) per ξ: what the convolutions read.</summary>
        public readonly float[][] Packed = [[], [], [], []];
    }

    private static readonly ConditionalWeakTable<float[], FilterCache> filterCache = new();

    /// <summary>U for these weights (as is, or flipped for the data gradient), packed as A panels per ξ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float[] PackedFilters<T>(float[] w, int co, int c, bool flip) where T : struct, IWinogradTile
    {
        int size = co * c * 9, slot = (flip ? 1 : 0) + (T.Out == 4 ? 2 : 0), block = Gemm.RowPanelFloats(co, c), xis = T.Alpha * T.Alpha;
        var entry = filterCache.GetOrCreateValue(w);
        lock (entry)
        {
            ref var weights = ref entry.Weights[slot];
            ref var u = ref entry.Transformed[slot];
            ref var packed = ref entry.Packed[slot];
            if (weights.Length == size && u.Length == xis * co * c && packed.Length == xis * block && w.AsSpan(0, size).SequenceEqual(weights)) return packed;
            if (weights.Length != size) weights = new float[size];
            if (u.Length != xis * co * c) u = new float[xis * co * c];
            if (packed.Length != xis * block) packed = new float[xis * block];
            w.AsSpan(0, size).CopyTo(weights);
            fixed (float* wp = w) fixed (float* up = u) fixed (float* pp = packed)
            {
                TransformFilters<T>(wp, up, co, c, flip);
                for (int xi = 0; xi < xis; xi++) Gemm.PackRowPanels(up + (long)xi * co * c, c, co, c, pp + (long)xi * block);
            }
            return packed;
        }
    }

    /// <summary>A worker's transformed tiles and row buffers (reused across calls: no allocation per step).</summary>
    private static float[] Scratch(int size) => scratch is { } s && s.Length >= size ? s : scratch = new float[size];

    /// <summary>The calling thread's per-chunk gradient sums.</summary>
    private static float[] Buffer(ref float[]? cache, int size) => cache is { } b && b.Length >= size ? b : cache = new float[size];

    /// <summary>
    /// Floats from one ξ plane to the next: its rows plus a cache line, so that the planes a
    /// transform touches at once do not fall into the same L1 set (plain C·ld floats is often a
    /// multiple of 4 KiB: 32·160·4 bytes is, and made every transform miss).
    /// </summary>
    private static int Plane(int rows, int ld) => rows * ld + 16;

    /// <summary>
    /// Floats from one channel's row of tiles to the next in a plane: the band's tiles rounded up
    /// to whole GEMM panels (the GEMM reads B's rows in place, 32 columns at a time) plus room for
    /// the transforms' stores of whole vectors past the last tile.
    /// </summary>
    private static int RowStride(int tiles) => (tiles + Gemm.PanelColumns - 1) / Gemm.PanelColumns * Gemm.PanelColumns + 16;

    /// <summary>
    /// Splits the rows of tiles of all samples (N·TH of them) into bands: big enough for the GEMMs,
    /// small enough that a band's transformed tiles stay in L2, and enough of them for every core.
    /// <c>mRows</c> is the rows of M (or dM) a band keeps per ξ beside V's C.
    /// </summary>
    private static (int BandRows, int Bands, int Workers) Split<T>(WinogradLayout l, int mRows) where T : struct, IWinogradTile
    {
        int rows = l.N * l.TH, xis = T.Alpha * T.Alpha;
        // About 512 KiB of V and M planes (half of a Zen 4 core's L2; the packed filters share it).
        int tiles = Math.Clamp(BandBytes / (4 * xis * (l.C + mRows)), 2 * Gemm.PanelColumns, 8 * Gemm.PanelColumns);
        int bandRows = Math.Clamp(tiles / l.TW, 1, rows);
        long work = (long)rows * l.TW * xis * l.C * l.Co;
        int workers = work < Gemm.ParallelThreshold ? 1 : Environment.ProcessorCount;
        if (workers > 1 && rows < 2 * workers * bandRows) bandRows = Math.Max(1, (rows + 2 * workers - 1) / (2 * workers));
        int bands = (rows + bandRows - 1) / bandRows;
        return (bandRows, bands, Math.Min(workers, bands));
    }

    private const int BandBytes = 512 * 1024;

    /// <summary>
    /// The forward pass over every band: input transform into V (whose planes are the GEMMs' B,
    /// read in place), then for each block of 8 output channels its products (straight from the
    /// packed U) and its output transform. Only one channel block of M exists at a time (8 rows
    /// per ξ, not Cout), so a band's working set stays in L2 with both cores busy.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<T>(WinogradLayout l, float[] w, bool flip, float* x, float* y, ChannelEpilogue epilogue) where T : struct, IWinogradTile
    {
        var packedU = PackedFilters<T>(w, l.Co, l.C, flip);
        var (bandRows, bands, workers) = Split<T>(l, Gemm.PanelRows);
        int xis = T.Alpha * T.Alpha, rowsTotal = l.N * l.TH;
        int ld = RowStride(bandRows * l.TW), aBlock = Gemm.RowPanelFloats(l.Co, l.C);
        int vPlane = Plane(l.C, ld), mPlane = Plane(Gemm.PanelRows, ld);
        int scratch = xis * (vPlane + mPlane) + T.RowBuffers * T.RowWidth(l);
        nint X = (nint)x, Y = (nint)y;
        fixed (float* up = packedU)
        {
            nint U = (nint)up;
            Work.Dynamic(bands, workers, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (_, item) =>
            {
                var s = Scratch(scratch);
                fixed (float* sp = s)
                {
                    float* v = sp, m = v + (long)xis * vPlane, rows = m + (long)xis * mPlane;
                    int r0 = item * bandRows, r1 = Math.Min(rowsTotal, r0 + bandRows);
                    int tiles = (r1 - r0) * l.TW;
                    T.InputTiles(l, (float*)X, r0, r1, v, ld, vPlane, rows);
                    for (int o0 = 0; o0 < l.Co; o0 += Gemm.PanelRows)
                    {
                        int mr = Math.Min(Gemm.PanelRows, l.Co - o0);
                        for (int xi = 0; xi < xis; xi++)
                        {
                            float* a = (float*)U + (long)xi * aBlock + (long)o0 * l.C;
                            for (int j = 0; j < tiles; j += Gemm.PanelColumns)
                                Gemm.MultiplyPanels(l.C, a, v + (long)xi * vPlane + j, ld, m + (long)xi * mPlane + j, ld, mr, Math.Min(Gemm.PanelColumns, tiles - j));
                        }
                        T.OutputTiles(l, m, ld, mPlane, o0, o0 + mr, r0, r1, (float*)Y, epilogue);
                    }
                }
            });
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FilterGrad<T>(WinogradLayout l, float* x, float* dy, float* dw) where T : struct, IWinogradTile
    {
        var (bandRows, bands, workers) = Split<T>(l, l.Co);
        int xis = T.Alpha * T.Alpha, rowsTotal = l.N * l.TH, co = l.Co, c = l.C;
        int ld = RowStride(bandRows * l.TW), vPlane = Plane(c, ld), dmPlane = Plane(co, ld);
        int scratch = xis * (vPlane + dmPlane) + T.RowBuffers * T.RowWidth(l);
        int acc = xis * co * c, chunks = Work.ReductionChunks(bands, workers);
        // One partial sum per chunk of bands, added in chunk order: the same bits on every run.
        var partial = Buffer(ref partials, chunks * acc);
        Array.Clear(partial, 0, chunks * acc);
        nint X = (nint)x, DY = (nint)dy;
        fixed (float* pp = partial)
        {
            nint P = (nint)pp;
            Work.Chunks(bands, chunks, workers, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (chunk, lo, hi) =>
            {
                var s = Scratch(scratch);
                fixed (float* sp = s)
                {
                    float* v = sp, dm = v + (long)xis * vPlane, rows = dm + (long)xis * dmPlane;
                    float* mine = (float*)P + (long)chunk * acc;
                    for (int item = lo; item < hi; item++)
                    {
                        int r0 = item * bandRows, r1 = Math.Min(rowsTotal, r0 + bandRows);
                        int tiles = (r1 - r0) * l.TW;
                        T.InputTiles(l, (float*)X, r0, r1, v, ld, vPlane, rows);
                        T.OutputGradTiles(l, (float*)DY, r0, r1, dm, ld, dmPlane, rows);
                        for (int xi = 0; xi < xis; xi++)
                            Gemm.Sgemm(false, true, co, c, tiles, 1f, dm + (long)xi * dmPlane, ld, v + (long)xi * vPlane, ld,
                                1f, mine + (long)xi * co * c, c, parallel: false);
                    }
                }
            });
            for (int t = 1; t < chunks; t++) Vec.Add(new Span<float>(pp, acc), new Span<float>(pp + (long)t * acc, acc), new Span<float>(pp, acc));
            FilterGradFromTiles<T>(pp, dw, co, c);
        }
    }

    /// <summary>
    /// Input row iy of one channel into its slot (iy mod <paramref name="slots"/>, a power of two) of
    /// a ring of padded rows, at column iy's padding offset; zeros outside the image. Consecutive
    /// tile rows share two input rows, so each row is copied once; only the image's columns are
    /// ever written, so the padding columns stay zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void LoadRow(in WinogradLayout l, float* xc, int iy, float* ring, int width, int slots)
    {
        float* row = ring + (iy & (slots - 1)) * width;
        if (iy < 0 || iy >= l.H) { new Span<float>(row, width).Clear(); return; }
        // Columns the tiles read: −PadX .. Out·TW+1−PadX; copy the part inside the image.
        int count = Math.Min(l.W, l.Out * l.TW + 2 - l.PadX);
        if (count > 0) new ReadOnlySpan<float>(xc + (long)iy * l.W, count).CopyTo(new Span<float>(row + l.PadX, count));
    }

    /// <summary>U[ξ][o][i] = (G g Gᵀ)[ξ] for g = w[o,i] (or, flipped, for g = w[i,o] rotated 180°).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformFilters<T>(float* w, float* u, int co, int c, bool flip) where T : struct, IWinogradTile
    {
        int alpha = T.Alpha;
        long plane = (long)co * c;
        var G = T.G;
        float* g = stackalloc float[9];
        float* t = stackalloc float[3 * alpha];
        for (int o = 0; o < co; o++)
            for (int i = 0; i < c; i++)
            {
                float* src = flip ? w + ((long)i * co + o) * 9 : w + ((long)o * c + i) * 9;
                for (int k = 0; k < 9; k++) g[k] = flip ? src[8 - k] : src[k];
                // t = G g (α×3), then U = t Gᵀ (α×α).
                for (int r = 0; r < alpha; r++)
                    for (int col = 0; col < 3; col++)
                        t[3 * r + col] = G[3 * r] * g[col] + G[3 * r + 1] * g[3 + col] + G[3 * r + 2] * g[6 + col];
                long at = (long)o * c + i;
                for (int r = 0; r < alpha; r++)
                    for (int col = 0; col < alpha; col++)
                        u[(alpha * r + col) * plane + at] = t[3 * r] * G[3 * col] + t[3 * r + 1] * G[3 * col + 1] + t[3 * r + 2] * G[3 * col + 2];
            }
    }

    /// <summary>dw[o,i] = Gᵀ dU[·][o][i] G (3×3 from the α×α transformed gradient).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FilterGradFromTiles<T>(float* du, float* dw, int co, int c) where T : struct, IWinogradTile
    {
        int alpha = T.Alpha;
        long plane = (long)co * c;
        var G = T.G;
        float* t = stackalloc float[3 * alpha];
        for (int o = 0; o < co; o++)
            for (int i = 0; i < c; i++)
            {
                long at = (long)o * c + i;
                // Columns first: t[r][b] = Σ_l dU[r][l] G[l][b]; then rows: dw[a][b] = Σ_r G[r][a] t[r][b].
                for (int r = 0; r < alpha; r++)
                    for (int b = 0; b < 3; b++)
                    {
                        float sum = 0;
                        for (int col = 0; col < alpha; col++) sum += du[(alpha * r + col) * plane + at] * G[3 * col + b];
                        t[3 * r + b] = sum;
                    }
                float* dst = dw + at * 9;
                for (int a = 0; a < 3; a++)
                    for (int b = 0; b < 3; b++)
                    {
                        float sum = 0;
                        for (int r = 0; r < alpha; r++) sum += G[3 * r + a] * t[3 * r + b];
                        dst[3 * a + b] = sum;
                    }
            }
    }
}

/// <summary>Where a Winograd convolution's tiles lie: the input and output sizes, padding, and the output tile side m.</summary>
internal readonly record struct WinogradLayout(int N, int C, int H, int W, int Co, int HO, int WO, int PadY, int PadX, int Out)
{
    /// <summary>Rows and columns of tiles per sample (stored: the transforms' inner loops read them, and a division each time showed).</summary>
    public int TH { get; } = (HO + Out - 1) / Out;
    public int TW { get; } = (WO + Out - 1) / Out;
}

/// <summary>
/// The transforms of one Winograd tile size, over bands of tile rows [r0, r1) counted across
/// samples (row r is tile row r mod TH of sample r / TH). Tile t of a band is column t of each
/// ξ plane; a plane holds one row of ld floats per channel.
/// </summary>
internal unsafe interface IWinogradTile
{
    /// <summary>m, the output tile's side.</summary>
    static abstract int Out { get; }
    /// <summary>α = m + 2, the input tile's side; there are α² positions ξ.</summary>
    static abstract int Alpha { get; }
    /// <summary>G (α×3, row-major), the filter transform.</summary>
    static abstract float[] G { get; }
    /// <summary>Rows of <see cref="RowWidth"/> floats the transforms need as scratch.</summary>
    static abstract int RowBuffers { get; }
    static abstract int RowWidth(in WinogradLayout l);
    /// <summary>V[ξ][c][t] = (Bᵀ d B)[ξ] for the input tile d of every tile t of the band.</summary>
    static abstract void InputTiles(in WinogradLayout l, float* x, int r0, int r1, float* v, int ld, int plane, float* rows);
    /// <summary>y tile = Aᵀ M A for output channels [o0, o1), whose M rows are row o − o0 of each ξ plane of m, through the epilogue.</summary>
    static abstract void OutputTiles(in WinogradLayout l, float* m, int ld, int plane, int o0, int o1, int r0, int r1, float* y, ChannelEpilogue epilogue);
    /// <summary>dM[ξ][o][t] = (A dY Aᵀ)[ξ] for the output-gradient tile of every tile t of the band.</summary>
    static abstract void OutputGradTiles(in WinogradLayout l, float* dy, int r0, int r1, float* dm, int ld, int plane, float* rows);
}

/// <summary>What a convolution does to each output value before storing it: add its channel's bias (when given), then ReLU (when asked).</summary>
internal readonly unsafe struct ChannelEpilogue(float* bias, bool relu)
{
    public bool IsNone => bias == null && !relu;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Apply(Vector512<float> v, int channel)
    {
        if (bias != null) v += Vector512.Create(bias[channel]);
        return relu ? Vector512.Max(v, Vector512<float>.Zero) : v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Apply(Vector256<float> v, int channel)
    {
        if (bias != null) v += Vector256.Create(bias[channel]);
        return relu ? Vector256.Max(v, Vector256<float>.Zero) : v;
    }
}
