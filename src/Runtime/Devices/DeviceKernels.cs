using ILGPU;
using ILGPU.Runtime;

namespace GraphNet.Runtime.Devices;

/// <summary>
/// A strided batched matrix product C = A·B (or C = Σ_batch A_b·B_b). Element (m, k) of batch b
/// of A is A[AOff + b·ABatch + m·ARow + k·ACol], so transposes and group slices are strides.
/// C is dense: C[COff + b·CBatch + m·N + n].
/// </summary>
public struct GemmArgs
{
    public ArrayView<float> A, B, C;
    public int AOff, ABatch, ARow, ACol;
    public int BOff, BBatch, BRow, BCol;
    public int COff, CBatch;
    public int M, N, K, Batches;
    /// <summary>1: sum the batches' products into one C (convolution weight gradients).</summary>
    public int SumBatches;
    /// <summary>Grid stride: launched threads (blocked kernel) or groups (tiled kernel).</summary>
    public int Stride;
    /// <summary>Tile edge of the tiled kernel (its group is Tile×Tile threads).</summary>
    public int Tile;
}

/// <summary>Geometry of a convolution for im2col and col2im.</summary>
public struct ConvArgs
{
    public ArrayView<float> Src, Dst;
    public int N, C, H, W, KH, KW, OH, OW;
    public int StrideH, StrideW, PadH, PadW, DilH, DilW;
    public int Size, Stride;
}

/// <summary>Geometry of a pooling op.</summary>
public struct PoolArgs
{
    public ArrayView<float> X, Dy, Y;
    public int Planes, H, W, OH, OW, KH, KW, StrideH, StrideW, PadH, PadW;
    /// <summary>0 max, 1 min, 2 average.</summary>
    public int Kind;
    public int Size, Stride;
}

/// <summary>Softmax or log_softmax along one axis: rows of Length elements Inner apart.</summary>
public struct SoftmaxArgs
{
    public ArrayView<float> X, Y;
    public int Outer, Length, Inner, Log;
    public int Size, Stride;
}

/// <summary>
/// The library kernels of the ILGPU backend, written once as grid-strided ILGPU kernels:
/// GEMM (shared-memory tiles for GPUs, register blocks for the CPU accelerator, whose group
/// barriers are OS-level waits), im2col and col2im for convolutions, pooling and its gradient,
/// and softmax.
/// </summary>
public static class DeviceKernels
{
    private static float LoadA(in GemmArgs a, int b, int m, int k) =>
        m < a.M && k < a.K ? a.A[a.AOff + b * a.ABatch + m * a.ARow + k * a.ACol] : 0f;

    private static float LoadB(in GemmArgs a, int b, int k, int n) =>
        k < a.K && n < a.N ? a.B[a.BOff + b * a.BBatch + k * a.BRow + n * a.BCol] : 0f;

    /// <summary>
    /// Shared-memory tiled GEMM: a group of Tile×Tile threads computes one Tile×Tile block of C,
    /// staging Tile-wide slices of A and B in shared memory; groups stride over the blocks.
    /// </summary>
    public static void GemmTiled(GemmArgs a)
    {
        int t = a.Tile;
        var shared = SharedMemory.GetDynamic<float>();
        var sa = shared.SubView(0, t * t);
        var sb = shared.SubView(t * t, t * t);
        int tx = Group.IdxX % t, ty = Group.IdxX / t;
        int tilesN = (a.N + t - 1) / t, tilesM = (a.M + t - 1) / t;
        int outBatches = a.SumBatches != 0 ? 1 : a.Batches;
        int tiles = tilesN * tilesM * outBatches;
        for (int tile = Grid.IdxX; tile < tiles; tile += a.Stride)
        {
            int ob = tile / (tilesN * tilesM), rest = tile % (tilesN * tilesM);
            int row = rest / tilesN * t + ty, col = rest % tilesN * t + tx;
            float acc = 0f;
            int b0 = a.SumBatches != 0 ? 0 : ob, b1 = a.SumBatches != 0 ? a.Batches : ob + 1;
            for (int b = b0; b < b1; b++)
                for (int k0 = 0; k0 < a.K; k0 += t)
                {
                    sa[ty * t + tx] = LoadA(a, b, row, k0 + tx);
                    sb[ty * t + tx] = LoadB(a, b, k0 + ty, col);
                    Group.Barrier();
                    for (int k = 0; k < t; k++) acc += sa[ty * t + k] * sb[k * t + tx];
                    Group.Barrier();
                }
            if (row < a.M && col < a.N) a.C[a.COff + ob * a.CBatch + row * a.N + col] = acc;
        }
    }

    /// <summary>Barrier-free GEMM: each thread computes 4×4 blocks of C in registers, striding over blocks.</summary>
    public static void GemmBlocked(Index1D index, GemmArgs a)
    {
        int blocksN = (a.N + 3) / 4, blocksM = (a.M + 3) / 4;
        int outBatches = a.SumBatches != 0 ? 1 : a.Batches;
        int blocks = blocksN * blocksM * outBatches;
        for (int blk = index; blk < blocks; blk += a.Stride)
        {
            int ob = blk / (blocksN * blocksM), rest = blk % (blocksN * blocksM);
            int m0 = rest / blocksN * 4, n0 = rest % blocksN * 4;
            float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
            float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
            int b0 = a.SumBatches != 0 ? 0 : ob, b1 = a.SumBatches != 0 ? a.Batches : ob + 1;
            for (int b = b0; b < b1; b++)
                for (int k = 0; k < a.K; k++)
                {
                    float a0 = LoadA(a, b, m0, k), a1 = LoadA(a, b, m0 + 1, k), a2 = LoadA(a, b, m0 + 2, k), a3 = LoadA(a, b, m0 + 3, k);
                    float v0 = LoadB(a, b, k, n0), v1 = LoadB(a, b, k, n0 + 1), v2 = LoadB(a, b, k, n0 + 2), v3 = LoadB(a, b, k, n0 + 3);
                    c00 += a0 * v0; c01 += a0 * v1; c02 += a0 * v2; c03 += a0 * v3;
                    c10 += a1 * v0; c11 += a1 * v1; c12 += a1 * v2; c13 += a1 * v3;
                    c20 += a2 * v0; c21 += a2 * v1; c22 += a2 * v2; c23 += a2 * v3;
                    c30 += a3 * v0; c31 += a3 * v1; c32 += a3 * v2; c33 += a3 * v3;
                }
            StoreRow(a, ob, m0, n0, c00, c01, c02, c03);
            StoreRow(a, ob, m0 + 1, n0, c10, c11, c12, c13);
            StoreRow(a, ob, m0 + 2, n0, c20, c21, c22, c23);
            StoreRow(a, ob, m0 + 3, n0, c30, c31, c32, c33);
        }
    }

    private static void StoreRow(in GemmArgs a, int b, int m, int n0, float v0, float v1, float v2, float v3)
    {
        if (m >= a.M) return;
        int o = a.COff + b * a.CBatch + m * a.N + n0;
        if (n0 < a.N) a.C[o] = v0;
        if (n0 + 1 < a.N) a.C[o + 1] = v1;
        if (n0 + 2 < a.N) a.C[o + 2] = v2;
        if (n0 + 3 < a.N) a.C[o + 3] = v3;
    }

    /// <summary>Unfolds x [N,C,H,W] into columns [N][C·KH·KW][OH·OW] (zeros where the window leaves the image).</summary>
    public static void Im2Col(Index1D index, ConvArgs a)
    {
        int pixels = a.OH * a.OW, rows = a.C * a.KH * a.KW;
        for (int e = index; e < a.Size; e += a.Stride)
        {
            int p = e % pixels, r = e / pixels % rows, n = e / (pixels * rows);
            int kx = r % a.KW, ky = r / a.KW % a.KH, c = r / (a.KW * a.KH);
            int oy = p / a.OW, ox = p % a.OW;
            int iy = oy * a.StrideH - a.PadH + ky * a.DilH, ix = ox * a.StrideW - a.PadW + kx * a.DilW;
            a.Dst[e] = iy >= 0 && iy < a.H && ix >= 0 && ix < a.W ? a.Src[((n * a.C + c) * a.H + iy) * a.W + ix] : 0f;
        }
    }

    /// <summary>
    /// The adjoint of Im2Col, gathered: each element of y [N,C,H,W] sums the columns [N][C·KH·KW][OH·OW]
    /// whose windows cover it (no atomics, so the order is fixed).
    /// </summary>
    public static void Col2Im(Index1D index, ConvArgs a)
    {
        int pixels = a.OH * a.OW, rows = a.C * a.KH * a.KW;
        for (int e = index; e < a.Size; e += a.Stride)
        {
            int x = e % a.W, y = e / a.W % a.H, c = e / (a.W * a.H) % a.C, n = e / (a.W * a.H * a.C);
            float s = 0f;
            for (int ky = 0; ky < a.KH; ky++)
            {
                int ty = y + a.PadH - ky * a.DilH;
                if (ty < 0 || ty % a.StrideH != 0 || ty / a.StrideH >= a.OH) continue;
                for (int kx = 0; kx < a.KW; kx++)
                {
                    int tx = x + a.PadW - kx * a.DilW;
                    if (tx < 0 || tx % a.StrideW != 0 || tx / a.StrideW >= a.OW) continue;
                    s += a.Src[(n * rows + (c * a.KH + ky) * a.KW + kx) * pixels + ty / a.StrideH * a.OW + tx / a.StrideW];
                }
            }
            a.Dst[e] = s;
        }
    }

    /// <summary>The window's result (max, min or mean) and, for max and min, the index of its first extreme.</summary>
    private static float Window(in PoolArgs a, int plane, int oy, int ox, out int best)
    {
        float acc = a.Kind == 0 ? float.NegativeInfinity : a.Kind == 1 ? float.PositiveInfinity : 0f;
        best = -1;
        for (int ky = 0; ky < a.KH; ky++)
            for (int kx = 0; kx < a.KW; kx++)
            {
                int iy = oy * a.StrideH - a.PadH + ky, ix = ox * a.StrideW - a.PadW + kx;
                if (iy < 0 || iy >= a.H || ix < 0 || ix >= a.W) continue;
                int i = (plane * a.H + iy) * a.W + ix;
                float v = a.X[i];
                if (a.Kind == 2) acc += v;
                else if (best < 0 || (a.Kind == 0 ? v > acc : v < acc) || float.IsNaN(v)) { acc = v; best = i; } // NaN wins, as PyTorch
            }
        return a.Kind == 2 ? acc / (a.KH * a.KW) : acc;
    }

    public static void PoolForward(Index1D index, PoolArgs a)
    {
        for (int e = index; e < a.Size; e += a.Stride)
        {
            int ox = e % a.OW, oy = e / a.OW % a.OH, plane = e / (a.OW * a.OH);
            a.Y[e] = Window(a, plane, oy, ox, out _);
        }
    }

    /// <summary>Gathered pooling gradient: each input element sums dy over the windows that route to it.</summary>
    public static void PoolBackward(Index1D index, PoolArgs a)
    {
        for (int e = index; e < a.Size; e += a.Stride)
        {
            int x = e % a.W, y = e / a.W % a.H, plane = e / (a.W * a.H);
            float s = 0f;
            for (int ky = 0; ky < a.KH; ky++)
            {
                int ty = y + a.PadH - ky;
                if (ty < 0 || ty % a.StrideH != 0 || ty / a.StrideH >= a.OH) continue;
                for (int kx = 0; kx < a.KW; kx++)
                {
                    int tx = x + a.PadW - kx;
                    if (tx < 0 || tx % a.StrideW != 0 || tx / a.StrideW >= a.OW) continue;
                    int oy = ty / a.StrideH, ox = tx / a.StrideW;
                    float d = a.Dy[(plane * a.OH + oy) * a.OW + ox];
                    if (a.Kind == 2) s += d / (a.KH * a.KW);
                    else { Window(a, plane, oy, ox, out int best); if (best == e) s += d; }
                }
            }
            a.Y[e] = s;
        }
    }

    public static void Softmax(Index1D index, SoftmaxArgs a)
    {
        for (int row = index; row < a.Size; row += a.Stride)
        {
            int o = row / a.Inner, i = row % a.Inner, start = o * a.Length * a.Inner + i;
            float max = float.NegativeInfinity;
            for (int j = 0; j < a.Length; j++) max = Math.Max(max, a.X[start + j * a.Inner]);
            float sum = 0f;
            for (int j = 0; j < a.Length; j++) sum += MathF.Exp(a.X[start + j * a.Inner] - max);
            if (a.Log != 0)
            {
                float lse = max + MathF.Log(sum);
                for (int j = 0; j < a.Length; j++) a.Y[start + j * a.Inner] = a.X[start + j * a.Inner] - lse;
            }
            else
            {
                float inv = 1f / sum;
                for (int j = 0; j < a.Length; j++) a.Y[start + j * a.Inner] = MathF.Exp(a.X[start + j * a.Inner] - max) * inv;
            }
        }
    }
}
