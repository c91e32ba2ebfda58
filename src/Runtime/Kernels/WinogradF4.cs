using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GraphNet.Runtime.Kernels;

/// <summary>
/// The transforms of Winograd F(4×4,3×3) (see <see cref="Winograd"/>), with Lavin and Gray's
/// matrices (interpolation points 0, ±1, ±2, ∞):
/// Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1],
/// G = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1/24 1/12 ⅙; 1/24 −1/12 ⅙; 0 0 1],
/// Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1].
/// Eight tiles at a time along a tile row, in Vector256 lanes (the book's images are 6 or 7
/// tiles wide, so 16 lanes would be mostly empty; Zen 4 runs a 512-bit operation as two 256-bit
/// halves anyway): tile t of a row starts at column 4t, and <see cref="Quads"/> splits 32
/// columns into their four stride-4 phases (two 512-bit permutes, or AVX2 shuffles).
/// </summary>
internal unsafe struct WinogradF4 : IWinogradTile
{
    private const int Lanes = 8;
    public static int Out => 4;
    public static int Alpha => 6;
    private static readonly float[] g = [1f / 4, 0, 0, -1f / 6, -1f / 6, -1f / 6, -1f / 6, 1f / 6, -1f / 6, 1f / 24, 1f / 12, 1f / 6, 1f / 24, -1f / 12, 1f / 6, 0, 0, 1];
    public static float[] G => g;
    /// <summary>Six combined rows and a ring of eight padded input rows (consecutive tile rows share two).</summary>
    public static int RowBuffers => 14;

    /// <summary>A padded row: the 4·TW+2 columns the tiles read, and room for the 36 floats the last group of eight tiles loads.</summary>
    public static int RowWidth(in WinogradLayout l) => (4 * l.TW + 36 + 15) / 16 * 16;

    /// <summary>Rows of the tile are combined first over whole (zero-padded) input rows, then the columns eight tiles at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void InputTiles(in WinogradLayout l, float* x, int r0, int r1, float* v, int ld, int plane, float* rows)
    {
        int width = RowWidth(l); // padded row: column j is input column j − PadX
        float* e = rows, ring = rows + 6 * width;
        // Input row iy lives in ring[iy mod 8]: consecutive tile rows of a sample share two input
        // rows. Only the image's columns are ever written, so the padding columns stay zero; a
        // row outside the image is cleared whole.
        new Span<float>(ring, 8 * width).Clear();
        for (int ci = 0; ci < l.C; ci++)
        {
            for (int r = r0; r < r1; r++)
            {
                int ty = r % l.TH, iy = 4 * ty - l.PadY;
                float* xc = x + ((long)(r / l.TH) * l.C + ci) * l.H * l.W;
                if (r == r0 || ty == 0) { Winograd.LoadRow(l, xc, iy, ring, width, 8); Winograd.LoadRow(l, xc, iy + 1, ring, width, 8); }
                for (int k = 2; k < 6; k++) Winograd.LoadRow(l, xc, iy + k, ring, width, 8);
                float* p0 = ring + (iy & 7) * width, p1 = ring + ((iy + 1) & 7) * width, p2 = ring + ((iy + 2) & 7) * width;
                float* p3 = ring + ((iy + 3) & 7) * width, p4 = ring + ((iy + 4) & 7) * width, p5 = ring + ((iy + 5) & 7) * width;
                // Rows in 256-bit steps, as the columns below: one Bᵀ for both (Zen 4 splits 512-bit operations in two anyway).
                for (int j = 0; j < width; j += Lanes)
                {
                    var (b0, b1, b2, b3, b4, b5) = Bt(Vector256.Load(p0 + j), Vector256.Load(p1 + j), Vector256.Load(p2 + j),
                        Vector256.Load(p3 + j), Vector256.Load(p4 + j), Vector256.Load(p5 + j));
                    Vector256.Store(b0, e + j); Vector256.Store(b1, e + width + j); Vector256.Store(b2, e + 2 * width + j);
                    Vector256.Store(b3, e + 3 * width + j); Vector256.Store(b4, e + 4 * width + j); Vector256.Store(b5, e + 5 * width + j);
                }
                float* dst = v + (long)ci * ld + (r - r0) * l.TW;
                for (int tx = 0; tx < l.TW; tx += Lanes)
                    for (int i = 0; i < 6; i++) Columns(e + i * width + 4 * tx, dst + tx, 6L * i * plane, plane);
            }
        }
    }

    /// <summary>The column half of Bᵀ d B for eight tiles of one combined row e: writes ξ = 6i + 0..5.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns(float* e, float* dst, long first, int plane)
    {
        var (p0, p1, p2, p3) = Quads.Split(e);
        // Columns 4t+4 and 4t+5 are phases 0 and 1 of the columns four to the right.
        var (p4, p5, _, _) = Quads.Split(e + 4);
        var (b0, b1, b2, b3, b4, b5) = Bt(p0, p1, p2, p3, p4, p5);
        float* d = dst + first;
        Vector256.Store(b0, d); Vector256.Store(b1, d + plane); Vector256.Store(b2, d + 2 * plane);
        Vector256.Store(b3, d + 3 * plane); Vector256.Store(b4, d + 4 * plane); Vector256.Store(b5, d + 5 * plane);
    }

    /// <summary>Bᵀ applied to six values: (4d₀−5d₂+d₄, (d₄−4d₂)±(d₃−4d₁), (d₄−d₂)±2(d₃−d₁), 4d₁−5d₃+d₅).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>) Bt(
        Vector256<float> d0, Vector256<float> d1, Vector256<float> d2, Vector256<float> d3, Vector256<float> d4, Vector256<float> d5)
    {
        Vector256<float> four = Vector256.Create(4f), five = Vector256.Create(5f);
        var t1 = d4 - four * d2; var t2 = d3 - four * d1;
        var t3 = d4 - d2; var t4 = (d3 - d1) + (d3 - d1);
        return (four * d0 - five * d2 + d4, t1 + t2, t1 - t2, t3 + t4, t3 - t4, four * d1 - five * d3 + d5);
    }

    /// <summary>
    /// Eight tiles at a time: Aᵀ over the tile's rows, then over its columns, one output row (32 columns) at a
    /// time, clipped at the edges.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void OutputTiles(in WinogradLayout l, float* m, int ld, int plane, int o0, int o1, int r0, int r1, float* y, ChannelEpilogue epilogue)
    {
        var q = stackalloc Vector256<float>[24]; // q[4j + a] = (Aᵀ M)[a][j]
        for (int o = o0; o < o1; o++)
            for (int r = r0; r < r1; r++)
            {
                int ty = r % l.TH;
                float* yo = y + ((long)(r / l.TH) * l.Co + o) * l.HO * l.WO;
                for (int tx = 0; tx < l.TW; tx += Lanes)
                {
                    float* src = m + (long)(o - o0) * ld + (r - r0) * l.TW + tx;
                    for (int j = 0; j < 6; j++)
                    {
                        float* s = src + (long)j * plane;
                        var (a0, a1, a2, a3) = At(Vector256.Load(s), Vector256.Load(s + 6L * plane), Vector256.Load(s + 12L * plane),
                            Vector256.Load(s + 18L * plane), Vector256.Load(s + 24L * plane), Vector256.Load(s + 30L * plane));
                        q[4 * j] = a0; q[4 * j + 1] = a1; q[4 * j + 2] = a2; q[4 * j + 3] = a3;
                    }
                    int count = Math.Min(32, l.WO - 4 * tx);
                    for (int a = 0; a < 4 && 4 * ty + a < l.HO; a++)
                    {
                        var (c0, c1, c2, c3) = At(q[a], q[4 + a], q[8 + a], q[12 + a], q[16 + a], q[20 + a]);
                        StoreRow(yo + (long)(4 * ty + a) * l.WO + 4 * tx, epilogue.Apply(c0, o), epilogue.Apply(c1, o), epilogue.Apply(c2, o), epilogue.Apply(c3, o), count);
                    }
                }
            }
    }

    /// <summary>Aᵀ applied to six values: (m₀+s₁₂+s₃₄, d₁₂+2d₃₄, s₁₂+4s₃₄, d₁₂+8d₃₄+m₅) with s, d the sums and differences of pairs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>) At(
        Vector256<float> m0, Vector256<float> m1, Vector256<float> m2, Vector256<float> m3, Vector256<float> m4, Vector256<float> m5)
    {
        var s12 = m1 + m2; var d12 = m1 - m2; var s34 = m3 + m4; var d34 = m3 - m4;
        return (m0 + s12 + s34, d12 + Vector256.Create(2f) * d34, s12 + Vector256.Create(4f) * s34, d12 + Vector256.Create(8f) * d34 + m5);
    }

    /// <summary>
    /// Columns 0..3 of eight tiles, interleaved into 32 consecutive floats of an output row (the first <paramref
    /// name="count"/> written).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* dst, Vector256<float> c0, Vector256<float> c1, Vector256<float> c2, Vector256<float> c3, int count)
    {
        var (r0, r1, r2, r3) = Quads.Join(c0, c1, c2, c3);
        if (count == 32)
        {
            Vector256.Store(r0, dst); Vector256.Store(r1, dst + 8); Vector256.Store(r2, dst + 16); Vector256.Store(r3, dst + 24);
            return;
        }
        // A clipped row (the book's 24-wide images end every row here): masked stores.
        StorePart(dst, r0, count); StorePart(dst + 8, r1, count - 8); StorePart(dst + 16, r2, count - 16); StorePart(dst + 24, r3, count - 24);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePart(float* dst, Vector256<float> v, int count)
    {
        if (count >= 8) Vector256.Store(v, dst);
        else if (count > 0) LaneMask.Store(dst, v, count);
    }

    /// <summary>A dY Aᵀ: each output-gradient row's four columns become six, then each column's four rows become six.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void OutputGradTiles(in WinogradLayout l, float* dy, int r0, int r1, float* dm, int ld, int plane, float* rows)
    {
        int width = RowWidth(l);
        var f = stackalloc Vector256<float>[24]; // f[6k + j] = (dY A)[k][j] for output row k of the tile
        for (int o = 0; o < l.Co; o++)
            for (int r = r0; r < r1; r++)
            {
                int ty = r % l.TH;
                float* yo = dy + ((long)(r / l.TH) * l.Co + o) * l.HO * l.WO;
                new Span<float>(rows, 4 * width).Clear();
                for (int k = 0; k < 4 && 4 * ty + k < l.HO; k++)
                    new ReadOnlySpan<float>(yo + (long)(4 * ty + k) * l.WO, l.WO).CopyTo(new Span<float>(rows + k * width, l.WO));
                float* dst = dm + (long)o * ld + (r - r0) * l.TW;
                for (int tx = 0; tx < l.TW; tx += Lanes)
                {
                    for (int k = 0; k < 4; k++)
                    {
                        float* s = rows + k * width + 4 * tx;
                        var (p0, p1, p2, p3) = Quads.Split(s);
                        var (g0, g1, g2, g3, g4, g5) = A(p0, p1, p2, p3);
                        f[6 * k] = g0; f[6 * k + 1] = g1; f[6 * k + 2] = g2; f[6 * k + 3] = g3; f[6 * k + 4] = g4; f[6 * k + 5] = g5;
                    }
                    for (int j = 0; j < 6; j++)
                    {
                        var (g0, g1, g2, g3, g4, g5) = A(f[j], f[6 + j], f[12 + j], f[18 + j]);
                        float* d = dst + tx + (long)j * plane;
                        Vector256.Store(g0, d); Vector256.Store(g1, d + 6L * plane); Vector256.Store(g2, d + 12L * plane);
                        Vector256.Store(g3, d + 18L * plane); Vector256.Store(g4, d + 24L * plane); Vector256.Store(g5, d + 30L * plane);
                    }
                }
            }
    }

    /// <summary>A (Aᵀ transposed) applied to four values: (c₀, s₀₂±s₁₃, (c₀+4c₂)±(2c₁+8c₃), c₃).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>) A(
        Vector256<float> c0, Vector256<float> c1, Vector256<float> c2, Vector256<float> c3)
    {
        var s02 = c0 + c2; var s13 = c1 + c3;
        var u = c0 + Vector256.Create(4f) * c2; var w = Vector256.Create(2f) * c1 + Vector256.Create(8f) * c3;
        return (c0, s02 + s13, s02 - s13, u + w, u - w, c3);
    }
}
