using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GraphNet.Runtime.Kernels;

/// <summary>
/// The transforms of Winograd F(2×2,3×3) (see <see cref="Winograd"/>), 16 tiles at a time in
/// Vector512 lanes along a tile row: a row of the 4×4 tiles is read as the even and odd columns of
/// its input rows (tiles overlap by two columns).
/// Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], Aᵀ = [1 1 1 0; 0 1 −1 −1].
/// </summary>
internal unsafe struct WinogradF2 : IWinogradTile
{
    private const int Lanes = 16;
    public static int Out => 2;
    public static int Alpha => 4;
    private static readonly float[] g = [1, 0, 0, 0.5f, 0.5f, 0.5f, 0.5f, -0.5f, 0.5f, 0, 0, 1];
    public static float[] G => g;
    /// <summary>Four combined rows and four padded input rows (a ring: consecutive tile rows share two).</summary>
    public static int RowBuffers => 8;

    /// <summary>A padded input row: the columns the tiles read, room for the last vector loads, a whole number of vectors.</summary>
    public static int RowWidth(in WinogradLayout l) => (2 * l.TW + 2 + 2 * Lanes + Lanes - 1) / Lanes * Lanes;

    /// <summary>Rows of the tile are combined first over whole (zero-padded) input rows, then the columns 16 tiles at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void InputTiles(in WinogradLayout l, float* x, int r0, int r1, float* v, int ld, int plane, float* rows)
    {
        int width = RowWidth(l); // padded row: column j is input column j − PadX
        float* e0 = rows, e1 = rows + width, e2 = rows + 2 * width, e3 = rows + 3 * width, padded = rows + 4 * width;
        // Input row iy lives in padded[iy mod 4]: consecutive tile rows of a sample share two
        // input rows, so each row is copied once. Only the image's columns are ever written, so
        // the padding columns stay zero; a row outside the image is cleared whole.
        new Span<float>(padded, 4 * width).Clear();
        for (int ci = 0; ci < l.C; ci++)
        {
            for (int r = r0; r < r1; r++)
            {
                int ty = r % l.TH, iy = 2 * ty - l.PadY;
                float* xc = x + ((long)(r / l.TH) * l.C + ci) * l.H * l.W;
                if (r == r0 || ty == 0) { Winograd.LoadRow(l, xc, iy, padded, width, 4); Winograd.LoadRow(l, xc, iy + 1, padded, width, 4); }
                Winograd.LoadRow(l, xc, iy + 2, padded, width, 4); Winograd.LoadRow(l, xc, iy + 3, padded, width, 4);
                float* p0 = padded + (iy & 3) * width, p1 = padded + ((iy + 1) & 3) * width;
                float* p2 = padded + ((iy + 2) & 3) * width, p3 = padded + ((iy + 3) & 3) * width;
                for (int j = 0; j < width; j += Lanes)
                {
                    var a0 = Vector512.Load(p0 + j); var a1 = Vector512.Load(p1 + j); var a2 = Vector512.Load(p2 + j); var a3 = Vector512.Load(p3 + j);
                    Vector512.Store(a0 - a2, e0 + j); Vector512.Store(a1 + a2, e1 + j); Vector512.Store(a2 - a1, e2 + j); Vector512.Store(a1 - a3, e3 + j);
                }
                float* dst = v + (long)ci * ld + (r - r0) * l.TW;
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

    /// <summary>
    /// 16 tiles at a time; each pair of output rows is written whole (interleaving the even and odd columns),
    /// clipped at the edges.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void OutputTiles(in WinogradLayout l, float* m, int ld, int plane, int o0, int o1, int r0, int r1, float* y, ChannelEpilogue epilogue)
    {
        for (int o = o0; o < o1; o++)
            for (int r = r0; r < r1; r++)
            {
                int ty = r % l.TH;
                float* yo = y + ((long)(r / l.TH) * l.Co + o) * l.HO * l.WO;
                for (int tx = 0; tx < l.TW; tx += Lanes)
                {
                    float* src = m + (long)(o - o0) * ld + (r - r0) * l.TW + tx;
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
                    StoreRow(yo + (long)(2 * ty) * l.WO + 2 * tx, epilogue.Apply(s0 + s1 + s2, o), epilogue.Apply(s1 - s2 - s3, o), count);
                    if (2 * ty + 1 < l.HO) StoreRow(yo + (long)(2 * ty + 1) * l.WO + 2 * tx, epilogue.Apply(d0 + d1 + d2, o), epilogue.Apply(d1 - d2 - d3, o), count);
                }
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* dst, Vector512<float> even, Vector512<float> odd, int count)
    {
        var (lo, hi) = Pairs.Join(even, odd);
        if (count == 2 * Lanes) { Vector512.Store(lo, dst); Vector512.Store(hi, dst + Lanes); return; }
        // A clipped row (the book's 24-wide images end every row here): masked stores.
        LaneMask.Store(dst, lo, Math.Min(count, Lanes));
        if (count > Lanes) LaneMask.Store(dst + Lanes, hi, count - Lanes);
    }

    /// <summary>
    /// A = [1 0; 1 1; 1 −1; 0 −1]: rows f = (dy₀, dy₀+dy₁, dy₀−dy₁, −dy₁), then columns (e, e+o, e−o, −o) of each.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void OutputGradTiles(in WinogradLayout l, float* dy, int r0, int r1, float* dm, int ld, int plane, float* rows)
    {
        int width = RowWidth(l);
        float* a0 = rows, a1 = rows + width;
        for (int o = 0; o < l.Co; o++)
            for (int r = r0; r < r1; r++)
            {
                int ty = r % l.TH;
                float* yo = dy + ((long)(r / l.TH) * l.Co + o) * l.HO * l.WO;
                new Span<float>(a0, 2 * width).Clear();
                new ReadOnlySpan<float>(yo + (long)(2 * ty) * l.WO, l.WO).CopyTo(new Span<float>(a0, l.WO));
                if (2 * ty + 1 < l.HO) new ReadOnlySpan<float>(yo + (long)(2 * ty + 1) * l.WO, l.WO).CopyTo(new Span<float>(a1, l.WO));
                float* dst = dm + (long)o * ld + (r - r0) * l.TW;
                for (int tx = 0; tx < l.TW; tx += Lanes)
                {
                    var (e0, o0) = Pairs.Split(Vector512.Load(a0 + 2 * tx), Vector512.Load(a0 + 2 * tx + 16));
                    var (e1, o1) = Pairs.Split(Vector512.Load(a1 + 2 * tx), Vector512.Load(a1 + 2 * tx + 16));
                    GradColumns(e0, o0, dst + tx, 0, plane);
                    GradColumns(e0 + e1, o0 + o1, dst + tx, 4L * plane, plane);
                    GradColumns(e0 - e1, o0 - o1, dst + tx, 8L * plane, plane);
                    GradColumns(-e1, -o1, dst + tx, 12L * plane, plane);
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
