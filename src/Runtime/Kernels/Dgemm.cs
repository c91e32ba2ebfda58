using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GraphNet.Runtime.Kernels;

/// <summary>
/// Double-precision GEMM, C = alpha·op(A)·op(B) + beta·C, the float one's shape at half the lanes:
/// B packed into KC×16 panels, A (scaled by alpha) into 8×KC panels, and an 8×16 microkernel of 16
/// Vector512&lt;double&gt; accumulators. Large problems are split over cores, by columns or rows.
/// </summary>
public static unsafe class Dgemm
{
    private const int MR = 8, NR = 16, KC = 256, MC = 128, NC = 1024;

    [ThreadStatic] private static double[]? packA, packB;

    public static void Run(bool transA, bool transB, int m, int n, int k, double alpha, ReadOnlySpan<double> a, int lda,
        ReadOnlySpan<double> b, int ldb, double beta, Span<double> c, int ldc, bool parallel = true)
    {
        if (m == 0 || n == 0) return;
        fixed (double* pa = a) fixed (double* pb = b) fixed (double* pc = c)
            Run(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, parallel);
    }

    public static void Run(bool transA, bool transB, int m, int n, int k, double alpha, double* a, int lda, double* b, int ldb,
        double beta, double* c, int ldc, bool parallel = true)
    {
        int threads = parallel && !Work.InItem && (long)m * n * k >= Gemm.ParallelThreshold / 2 ? Environment.ProcessorCount : 1;
        if (threads == 1) { Block(transA, transB, 0, m, 0, n, k, alpha, a, lda, b, ldb, beta, c, ldc); return; }
        Split(threads, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    // As Gemm's: split the larger extent that has enough panels, a few blocks per thread.
    private static void Split(int threads, bool transA, bool transB, int m, int n, int k, double alpha, double* a, int lda,
        double* b, int ldb, double beta, double* c, int ldc)
    {
        bool splitN = n >= threads * NR * 2 && (n >= m || m < threads * MR * 2);
        int extent = splitN ? n : m, unit = splitN ? NR : MR, units = (extent + unit - 1) / unit;
        int blocks = Math.Min(units, 3 * threads);
        nint A = (nint)a, B = (nint)b, C = (nint)c;
        Work.Dynamic(blocks, Math.Min(threads, blocks), [MethodImpl(MethodImplOptions.AggressiveOptimization)] (_, t) =>
        {
            int lo = (int)((long)units * t / blocks) * unit, hi = Math.Min(extent, (int)((long)units * (t + 1) / blocks) * unit);
            if (lo >= hi) return;
            if (splitN) Block(transA, transB, 0, m, lo, hi, k, alpha, (double*)A, lda, (double*)B, ldb, beta, (double*)C, ldc);
            else Block(transA, transB, lo, hi, 0, n, k, alpha, (double*)A, lda, (double*)B, ldb, beta, (double*)C, ldc);
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block(bool transA, bool transB, int i0, int i1, int j0, int j1, int k, double alpha, double* a, int lda,
        double* b, int ldb, double beta, double* c, int ldc)
    {
        // With beta = 0 the first K block's full tiles store their products instead of adding them to a cleared C.
        bool storeFirst = beta == 0 && k > 0;
        for (int i = i0; i < i1 && beta != 1 && !storeFirst; i++)
        {
            var row = new Span<double>(c + (long)i * ldc + j0, j1 - j0);
            if (beta == 0) row.Clear();
            else foreach (ref var v in row) v *= beta;
        }
        if (k == 0) return;
        var pb = packB is { Length: >= KC * NC } bb ? bb : packB = new double[KC * NC];
        var pa = packA is { Length: >= KC * MC } aa ? aa : packA = new double[KC * MC];
        fixed (double* PB = pb) fixed (double* PA = pa)
            for (int jc = j0; jc < j1; jc += NC)
            {
                int nc = Math.Min(NC, j1 - jc);
                for (int pc = 0; pc < k; pc += KC)
                {
                    int kc = Math.Min(KC, k - pc);
                    PackB(transB, b, ldb, pc, kc, jc, nc, PB);
                    for (int ic = i0; ic < i1; ic += MC)
                    {
                        int mc = Math.Min(MC, i1 - ic);
                        PackA(transA, a, lda, ic, mc, pc, kc, alpha, PA);
                        for (int jr = 0; jr < nc; jr += NR)
                            for (int ir = 0; ir < mc; ir += MR)
                                Micro(kc, PA + (long)ir * kc, PB + (long)jr * kc, c + (long)(ic + ir) * ldc + jc + jr, ldc,
                                    Math.Min(MR, mc - ir), Math.Min(NR, nc - jr), storeFirst && pc == 0);
                    }
                }
            }
    }

    // B[pc.., jc..] as panels of 16 columns, k-major within each; columns past the edge are zeros.
    // Vector copies and 4×4 register transposes, as Gemm's packing: with m as small as a
    // convolution's 64 output channels, each B panel serves only eight microkernel calls, and
    // element-by-element packing took as long as the products.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackB(bool transB, double* b, int ldb, int pc, int kc, int jc, int nc, double* dst)
    {
        for (int jr = 0; jr < nc; jr += NR)
        {
            int cols = Math.Min(NR, nc - jr);
            double* panel = dst + (long)jr * kc;
            if (cols < NR) new Span<double>(panel, kc * NR).Clear();
            if (!transB)
            {
                double* src = b + (long)pc * ldb + jc + jr;
                if (cols == NR)
                    for (int p = 0; p < kc; p++, src += ldb)
                    {
                        Vector512.Store(Vector512.Load(src), panel + p * NR);
                        Vector512.Store(Vector512.Load(src + 8), panel + p * NR + 8);
                    }
                else
                    for (int p = 0; p < kc; p++, src += ldb)
                        for (int j = 0; j < cols; j++) panel[p * NR + j] = src[j];
                continue;
            }
            int j4 = 0; // row j of Bᵀ is contiguous along k
            for (; j4 + 4 <= cols; j4 += 4) Interleave4(b + (long)(jc + jr + j4) * ldb + pc, ldb, kc, 1.0, panel + j4, NR);
            for (int j = j4; j < cols; j++)
            {
                double* src = b + (long)(jc + jr + j) * ldb + pc;
                for (int p = 0; p < kc; p++) panel[p * NR + j] = src[p];
            }
        }
    }

    // alpha·A[ic.., pc..] as panels of 8 rows, k-major within each; rows past the edge are zeros.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackA(bool transA, double* a, int lda, int ic, int mc, int pc, int kc, double alpha, double* dst)
    {
        var scale = Vector512.Create(alpha);
        for (int ir = 0; ir < mc; ir += MR)
        {
            int rows = Math.Min(MR, mc - ir);
            double* panel = dst + (long)ir * kc;
            if (rows < MR) new Span<double>(panel, kc * MR).Clear();
            if (transA)
            {
                double* src = a + (long)pc * lda + ic + ir;
                if (rows == MR)
                    for (int p = 0; p < kc; p++, src += lda) Vector512.Store(Vector512.Load(src) * scale, panel + p * MR);
                else
                    for (int p = 0; p < kc; p++, src += lda)
                        for (int r = 0; r < rows; r++) panel[p * MR + r] = alpha * src[r];
                continue;
            }
            int r4 = 0; // row r of A is contiguous along k
            for (; r4 + 4 <= rows; r4 += 4) Interleave4(a + (long)(ic + ir + r4) * lda + pc, lda, kc, alpha, panel + r4, MR);
            for (int r = r4; r < rows; r++)
            {
                double* src = a + (long)(ic + ir + r) * lda + pc;
                for (int p = 0; p < kc; p++) panel[p * MR + r] = alpha * src[p];
            }
        }
    }

    /// <summary>
    /// scale·(four rows, ld apart, kc long) into four adjacent columns of a panel whose rows are
    /// stride apart: 4×4 blocks transposed in registers, one 32-byte store per k.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Interleave4(double* s, int ld, int kc, double scale, double* dst, int stride)
    {
        double* s0 = s, s1 = s + ld, s2 = s + 2L * ld, s3 = s + 3L * ld;
        var f = Vector256.Create(scale);
        int p = 0;
        if (Avx.IsSupported)
            for (; p + 4 <= kc; p += 4)
            {
                var r0 = Vector256.Load(s0 + p) * f; var r1 = Vector256.Load(s1 + p) * f;
                var r2 = Vector256.Load(s2 + p) * f; var r3 = Vector256.Load(s3 + p) * f;
                var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
                var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
                double* d = dst + (long)p * stride;
                Vector256.Store(Avx.Permute2x128(t0, t2, 0x20), d);
                Vector256.Store(Avx.Permute2x128(t1, t3, 0x20), d + stride);
                Vector256.Store(Avx.Permute2x128(t0, t2, 0x31), d + 2L * stride);
                Vector256.Store(Avx.Permute2x128(t1, t3, 0x31), d + 3L * stride);
            }
        for (; p < kc; p++)
            Vector256.Store(Vector256.Create(s0[p], s1[p], s2[p], s3[p]) * f, dst + (long)p * stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Micro(int kc, double* a, double* b, double* c, int ldc, int rows, int cols, bool store)
    {
        Vector512<double> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default,
            c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++, a += MR, b += NR)
        {
            var b0 = Vector512.Load(b); var b1 = Vector512.Load(b + 8);
            var x = Vector512.Create(a[0]); c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[1]); c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[2]); c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[3]); c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a[4]); c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a[5]); c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a[6]); c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a[7]); c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
        }
        if (rows == MR && cols == NR && store)
        {
            Put(c, c00, c01); Put(c + ldc, c10, c11); Put(c + 2 * ldc, c20, c21); Put(c + 3 * ldc, c30, c31);
            Put(c + 4 * ldc, c40, c41); Put(c + 5 * ldc, c50, c51); Put(c + 6 * ldc, c60, c61); Put(c + 7 * ldc, c70, c71);
            return;
        }
        if (rows == MR && cols == NR)
        {
            Add(c, c00, c01); Add(c + ldc, c10, c11); Add(c + 2 * ldc, c20, c21); Add(c + 3 * ldc, c30, c31);
            Add(c + 4 * ldc, c40, c41); Add(c + 5 * ldc, c50, c51); Add(c + 6 * ldc, c60, c61); Add(c + 7 * ldc, c70, c71);
            return;
        }
        // An edge tile: through a scratch tile, then the rows and columns that exist.
        double* tile = stackalloc double[MR * NR];
        Put(tile, c00, c01); Put(tile + 16, c10, c11); Put(tile + 32, c20, c21); Put(tile + 48, c30, c31);
        Put(tile + 64, c40, c41); Put(tile + 80, c50, c51); Put(tile + 96, c60, c61); Put(tile + 112, c70, c71);
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < cols; j++) c[(long)r * ldc + j] = tile[r * NR + j] + (store ? 0 : c[(long)r * ldc + j]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Add(double* row, Vector512<double> lo, Vector512<double> hi)
    {
        Vector512.Store(Vector512.Load(row) + lo, row);
        Vector512.Store(Vector512.Load(row + 8) + hi, row + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(double* row, Vector512<double> lo, Vector512<double> hi)
    {
        Vector512.Store(lo, row);
        Vector512.Store(hi, row + 8);
    }
}
