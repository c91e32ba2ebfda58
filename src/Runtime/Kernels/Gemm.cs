using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GraphNet.Runtime.Kernels;

/// <summary>
/// Single-precision GEMM, C = alpha·op(A)·op(B) + beta·C, in the GotoBLAS/BLIS shape: B is
/// packed into KC×NR panels, A into MR×KC panels, and an 8×32 register-blocked microkernel
/// (16 Vector512 accumulators) does the work. Large problems are split over cores.
/// </summary>
public static unsafe class Gemm
{
    private const int MR = 8, NR = 32, MC = 128, NC = 512;

    /// <summary>
    /// The K block: 256 with AVX-512; 128 on AVX2 machines, whose 4×16 quarters re-read the
    /// A and B micro-panels and need both in a 32 KB L1 (measured 52 → 63-72 GFLOP/s on one Zen 3 core).
    /// </summary>
    private static readonly int KC = Vector512.IsHardwareAccelerated ? 256 : 128;

    [ThreadStatic] private static float[]? packA, packB;

    /// <summary>Work below which splitting over threads costs more than it saves (multiply-adds).</summary>
    public const long ParallelThreshold = 1L << 18;

    /// <summary>
    /// C = op(A)·op(B) + beta·C in either float type: <see cref="Sgemm(bool, bool, int, int, int, float, ReadOnlySpan{float}, int,
    /// ReadOnlySpan{float}, int, float, Span{float}, int, bool)"/> or <see cref="Dgemm"/> (the JIT keeps one branch per instantiation).
    /// </summary>
    public static void Typed<T>(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb,
        float beta, Span<T> c, int ldc, bool parallel = true) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            Sgemm(transA, transB, m, n, k, 1f, MemoryMarshal.Cast<T, float>(a), lda, MemoryMarshal.Cast<T, float>(b), ldb, beta,
                MemoryMarshal.Cast<T, float>(c), ldc, parallel);
        else if (typeof(T) == typeof(double))
            Dgemm.Run(transA, transB, m, n, k, 1.0, MemoryMarshal.Cast<T, double>(a), lda, MemoryMarshal.Cast<T, double>(b), ldb, beta,
                MemoryMarshal.Cast<T, double>(c), ldc, parallel);
        else throw new NotSupportedException($"no GEMM for {typeof(T).Name}");
    }

    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc, bool parallel = true)
    {
        if (m == 0 || n == 0) return;
        fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
            Sgemm(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, parallel);
    }

    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, bool parallel = true)
    {
        if (m <= SmallM && !transA) { Skinny(transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, parallel); return; }
        int threads = parallel && !Work.InItem && (long)m * n * k >= ParallelThreshold ? Math.Min(Environment.ProcessorCount, 64) : 1;
        if (threads == 1) { Block(transA, transB, 0, m, 0, n, k, alpha, a, lda, b, ldb, beta, c, ldc); return; }
        Split(threads, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <summary>
    /// The parallel path, a method of its own: a lambda's captured variables are allocated on entry
    /// to the method that declares them, so in Sgemm itself every single-threaded call (hundreds a
    /// step, in Winograd's 16 GEMMs per tile band) paid for a closure it never used.
    /// </summary>
    private static void Split(int threads, bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        // Split the larger of M and N (each block packs all of the other operand, so splitting
        // the smaller one would pack the larger operand once per block), when it has enough
        // panels for every thread.
        bool nSplittable = n >= threads * NR * 2, mSplittable = m >= threads * MR * 2;
        bool splitN = nSplittable && (n >= m || !mSplittable) || !mSplittable;
        int extent = splitN ? n : m, unit = splitN ? NR : MR;
        int units = (extent + unit - 1) / unit;
        threads = Math.Min(threads, units);
        // Split by columns, a few blocks per thread, handed out as threads come free (see Work).
        // Split by rows, one block per thread: each block packs all of B, and six blocks packing
        // it six times measured up to a third slower than two, never clearly faster (an LSTM's
        // 256×28 and 256×64 weight gradients over 1,792 steps, 512×100×2048, in alternating rounds).
        int blocks = Math.Min(units, (splitN ? 3 : 1) * threads);
        nint A = (nint)a, B = (nint)b, C = (nint)c;
        Work.Dynamic(blocks, threads, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (_, t) =>
        {
            int lo = (int)((long)units * t / blocks) * unit, hi = Math.Min(extent, (int)((long)units * (t + 1) / blocks) * unit);
            if (lo >= hi) return;
            if (splitN) Block(transA, transB, 0, m, lo, hi, k, alpha, (float*)A, lda, (float*)B, ldb, beta, (float*)C, ldc);
            else Block(transA, transB, lo, hi, 0, n, k, alpha, (float*)A, lda, (float*)B, ldb, beta, (float*)C, ldc);
        });
    }

    /// <summary>Rows of C at or below which packing costs more than it saves (inference at batch 1).</summary>
    private const int SmallM = 4;

    /// <summary>
    /// A few rows of A against all of B, unpacked: with op(B) = Bᵀ each C element is a dot
    /// product of two contiguous rows; otherwise each row of C is a sum of scaled rows of B.
    /// (Packing a 9216×128 weight to multiply one sample by it cost ten times the multiply.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Skinny(bool transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, bool parallel)
    {
        int threads = parallel && (long)m * n * k >= 4 * ParallelThreshold ? Math.Min(Environment.ProcessorCount, Math.Max(1, n / 16)) : 1;
        if (threads == 1) { SkinnyColumns(0, n, transB, m, k, alpha, a, lda, b, ldb, beta, c, ldc); return; }
        SkinnySplit(threads, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <summary>The parallel path, apart so the single-threaded one allocates no closure (see <see cref="Split"/>).</summary>
    private static void SkinnySplit(int threads, bool transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        nint A = (nint)a, B = (nint)b, C = (nint)c;
        Work.Dynamic(threads, threads,
            (_, t) => SkinnyColumns(n * t / threads, n * (t + 1) / threads, transB, m, k, alpha, (float*)A, lda, (float*)B, ldb, beta, (float*)C, ldc));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SkinnyColumns(int j0, int j1, bool transB, int m, int k, float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            float* ai = a + (long)i * lda, ci = c + (long)i * ldc;
            if (transB)
                for (int j = j0; j < j1; j++)
                {
                    float d = alpha * Dot(ai, b + (long)j * ldb, k);
                    ci[j] = beta == 0 ? d : d + beta * ci[j];
                }
            else
            {
                if (beta == 0) new Span<float>(ci + j0, j1 - j0).Clear();
                else if (beta != 1) for (int j = j0; j < j1; j++) ci[j] *= beta;
                for (int p = 0; p < k; p++) Axpy(alpha * ai[p], b + (long)p * ldb + j0, ci + j0, j1 - j0);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot(float* x, float* y, int k)
    {
        int p = 0;
        var s0 = Vector512<float>.Zero; var s1 = s0; var s2 = s0; var s3 = s0;
        for (; p + 64 <= k; p += 64)
        {
            s0 = Vector512.FusedMultiplyAdd(Vector512.Load(x + p), Vector512.Load(y + p), s0);
            s1 = Vector512.FusedMultiplyAdd(Vector512.Load(x + p + 16), Vector512.Load(y + p + 16), s1);
            s2 = Vector512.FusedMultiplyAdd(Vector512.Load(x + p + 32), Vector512.Load(y + p + 32), s2);
            s3 = Vector512.FusedMultiplyAdd(Vector512.Load(x + p + 48), Vector512.Load(y + p + 48), s3);
        }
        for (; p + 16 <= k; p += 16) s0 = Vector512.FusedMultiplyAdd(Vector512.Load(x + p), Vector512.Load(y + p), s0);
        float s = Vector512.Sum((s0 + s1) + (s2 + s3));
        for (; p < k; p++) s += x[p] * y[p];
        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Axpy(float alpha, float* x, float* y, int n)
    {
        var va = Vector512.Create(alpha);
        int j = 0;
        for (; j + 16 <= n; j += 16) Vector512.Store(Vector512.FusedMultiplyAdd(va, Vector512.Load(x + j), Vector512.Load(y + j)), y + j);
        for (; j < n; j++) y[j] += alpha * x[j];
    }

    /// <summary>One thread's share: rows [i0,i1) and columns [j0,j1) of C.</summary>
    /// <summary>
    /// op(B) packed once as <see cref="Block"/>'s panels, for many products by the same B: a
    /// scan's captured weight serves every step, and packing it each step (the whole of a 64×256
    /// weight for 32 rows of A) cost a third of the product.
    /// </summary>
    public sealed class PackedB
    {
        internal float[] Data = [];
        public int K { get; private set; }
        public int N { get; private set; }
        public bool Trans { get; private set; }

        /// <summary>Packs op(B), k×n (B's rows ldb apart).</summary>
        public void Pack(bool transB, ReadOnlySpan<float> b, int ldb, int k, int n)
        {
            (K, N, Trans) = (k, n, transB);
            long size = 0;
            for (int jc = 0; jc < n; jc += NC) size += (long)k * ((Math.Min(NC, n - jc) + NR - 1) / NR * NR);
            if (Data.Length < size) Data = new float[size];
            fixed (float* pb = b) fixed (float* dst = Data)
            {
                float* at = dst;
                for (int jc = 0; jc < n; jc += NC)
                {
                    int nc = Math.Min(NC, n - jc), width = (nc + NR - 1) / NR * NR;
                    for (int pc = 0; pc < k; pc += KC)
                    {
                        int kc = Math.Min(KC, k - pc);
                        Gemm.PackB(transB, pb, ldb, pc, kc, jc, nc, at);
                        at += (long)kc * width;
                    }
                }
            }
        }
    }

    /// <summary>C = op(A)·B with B packed by <see cref="PackedB.Pack"/>, on this thread (C's rows ldc apart).</summary>
    public static void SgemmPacked(bool transA, int m, ReadOnlySpan<float> a, int lda, PackedB b, Span<float> c, int ldc)
    {
        if (m == 0 || b.N == 0) return;
        fixed (float* pa = a) fixed (float* pc = c) fixed (float* pb = b.Data)
            Block(transA, b.Trans, 0, m, 0, b.N, b.K, 1f, pa, lda, null, 0, 0f, pc, ldc, pb);
    }

    /// <summary>
    /// C[i0..i1, j0..j1] = alpha·op(A)·op(B) + beta·C, on this thread; with <paramref name="packed"/>
    /// (all of op(B), j0 = 0 and j1 = n) B's panels are read from it instead of packed here.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block(bool transA, bool transB, int i0, int i1, int j0, int j1, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, float* packed = null)
    {
        // With beta = 0 the first K block stores its products instead of adding them to a cleared C.
        bool storeFirst = beta == 0 && k > 0 && alpha != 0;
        if (beta != 1 && !storeFirst)
            for (int i = i0; i < i1; i++)
            {
                var row = new Span<float>(c + (long)i * ldc + j0, j1 - j0);
                if (beta == 0) row.Clear(); else for (int j = 0; j < row.Length; j++) row[j] *= beta;
            }
        if (k == 0 || alpha == 0) return;
        packA ??= new float[MC * KC];
        packB ??= new float[KC * NC];
        fixed (float* ap = packA) fixed (float* bp = packB)
        {
            for (int jc = j0; jc < j1; jc += NC)
            {
                int nc = Math.Min(NC, j1 - jc);
                for (int pc = 0; pc < k; pc += KC)
                {
                    int kc = Math.Min(KC, k - pc);
                    float* panels = bp;
                    if (packed is null) PackB(transB, b, ldb, pc, kc, jc, nc, bp);
                    else { panels = packed; packed += (long)kc * ((nc + NR - 1) / NR * NR); }
                    for (int ic = i0; ic < i1; ic += MC)
                    {
                        int mc = Math.Min(MC, i1 - ic);
                        PackA(transA, a, lda, ic, mc, pc, kc, ap);
                        for (int jr = 0; jr < nc; jr += NR)
                            for (int ir = 0; ir < mc; ir += MR)
                                Micro(kc, ap + ir * kc, panels + jr * kc, NR, c + (long)(ic + ir) * ldc + jc + jr, ldc, alpha,
                                    Math.Min(MR, mc - ir), Math.Min(NR, nc - jr), storeFirst && pc == 0);
                    }
                }
            }
        }
    }

    /// <summary>Floats <see cref="PackRowPanels"/> writes for an m×k matrix.</summary>
    internal static int RowPanelFloats(int m, int k) => (m + MR - 1) / MR * MR * k;

    /// <summary>Floats <see cref="PackColumnPanels"/> writes for a k×n matrix.</summary>
    internal static int ColumnPanelFloats(int k, int n) => (n + NR - 1) / NR * NR * k;

    /// <summary>A (m×k, row-major) packed once as the microkernel's A panels: MR rows each, panel i at dst + i·MR·k.</summary>
    internal static void PackRowPanels(float* a, int lda, int m, int k, float* dst) => PackA(false, a, lda, 0, m, 0, k, dst);

    /// <summary>B (k×n, row-major) packed once as the microkernel's B panels: NR columns each, panel j at dst + j·NR·k.</summary>
    internal static void PackColumnPanels(float* b, int ldb, int k, int n, float* dst) => PackB(false, b, ldb, 0, k, 0, n, dst);

    /// <summary>
    /// C (mr×nr, mr ≤ 8, nr ≤ 32) = A panel · B over k, from an A panel packed by
    /// <see cref="PackRowPanels"/> and 32 columns of B whose rows are <paramref name="ldb"/> floats
    /// apart (<see cref="PanelColumns"/> for a panel packed by <see cref="PackColumnPanels"/>; a
    /// row-major matrix can be read in place when 32 floats of each row are readable): for callers
    /// that reuse operands across many products (Winograd's transformed filters serve every tile
    /// band, and its transformed tiles are already rows of B).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void MultiplyPanels(int k, float* aPanel, float* b, int ldb, float* c, int ldc, int mr, int nr) =>
        Micro(k, aPanel, b, ldb, c, ldc, 1f, mr, nr, store: true);

    internal const int PanelRows = MR, PanelColumns = NR;

    /// <summary>Packs op(B)[pc..pc+kc, jc..jc+nc] as panels of NR columns, zero-padded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackB(bool trans, float* b, int ldb, int pc, int kc, int jc, int nc, float* dst)
    {
        for (int jr = 0; jr < nc; jr += NR)
        {
            int w = Math.Min(NR, nc - jr);
            float* panel = dst + jr * kc;
            if (!trans)
            {
                for (int p = 0; p < kc; p++)
                {
                    float* d = panel + p * NR;
                    float* s = b + (long)(pc + p) * ldb + jc + jr;
                    if (w == NR) { Vector512.Store(Vector512.Load(s), d); Vector512.Store(Vector512.Load(s + 16), d + 16); }
                    else { for (int j = 0; j < w; j++) d[j] = s[j]; for (int j = w; j < NR; j++) d[j] = 0; }
                }
            }
            else
            {
                // op(B) = Bᵀ: read each source row once, in order, and scatter it into the panel's
                // column (the panel, KC×NR floats, stays in L1), instead of hopping rows per element.
                if (w < NR) for (int p = 0; p < kc; p++) for (int j = w; j < NR; j++) panel[p * NR + j] = 0;
                int j8 = 0;
                for (; j8 + 8 <= w; j8 += 8) Interleave8(b + (long)(jc + jr + j8) * ldb + pc, ldb, kc, panel + j8, NR);
                for (int j = j8; j < w; j++)
                {
                    float* s = b + (long)(jc + jr + j) * ldb + pc;
                    for (int p = 0; p < kc; p++) panel[p * NR + j] = s[p];
                }
            }
        }
    }

    /// <summary>Packs op(A)[ic..ic+mc, pc..pc+kc] as panels of MR rows, zero-padded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackA(bool trans, float* a, int lda, int ic, int mc, int pc, int kc, float* dst)
    {
        for (int ir = 0; ir < mc; ir += MR)
        {
            int h = Math.Min(MR, mc - ir);
            float* panel = dst + ir * kc;
            if (!trans)
            {
                if (h == MR) { Interleave8(a + (long)(ic + ir) * lda + pc, lda, kc, panel, MR); continue; }
                for (int r = 0; r < MR; r++)
                {
                    if (r >= h) { for (int p = 0; p < kc; p++) panel[p * MR + r] = 0; continue; }
                    float* s = a + (long)(ic + ir + r) * lda + pc;
                    for (int p = 0; p < kc; p++) panel[p * MR + r] = s[p];
                }
            }
            else if (h == MR)
            {
                // op(A) = Aᵀ: a panel row is eight contiguous floats of a row of A.
                for (int p = 0; p < kc; p++)
                    Vector256.Store(Vector256.Load(a + (long)(pc + p) * lda + ic + ir), panel + p * MR);
            }
            else
            {
                for (int p = 0; p < kc; p++)
                {
                    float* s = a + (long)(pc + p) * lda + ic + ir;
                    float* d = panel + p * MR;
                    for (int r = 0; r < h; r++) d[r] = s[r];
                    for (int r = h; r < MR; r++) d[r] = 0;
                }
            }
        }
    }

    /// <summary>
    /// Transposing copy of eight rows (ld apart, kc long) into eight adjacent columns of a panel
    /// whose rows are stride apart: one 32-byte store per k instead of eight scattered ones.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Interleave8(float* s, int ld, int kc, float* dst, int stride)
    {
        float* s0 = s, s1 = s + ld, s2 = s + 2L * ld, s3 = s + 3L * ld, s4 = s + 4L * ld, s5 = s + 5L * ld, s6 = s + 6L * ld, s7 = s + 7L * ld;
        int p = 0;
        if (Avx.IsSupported)
            for (; p + 8 <= kc; p += 8)
            {
                // An 8×8 block at a time: eight row loads, a register transpose, eight column stores
                // (instead of gathering each column from eight scalar loads).
                var (c0, c1, c2, c3, c4, c5, c6, c7) = Transpose8x8(Vector256.Load(s0 + p), Vector256.Load(s1 + p), Vector256.Load(s2 + p), Vector256.Load(s3 + p),
                    Vector256.Load(s4 + p), Vector256.Load(s5 + p), Vector256.Load(s6 + p), Vector256.Load(s7 + p));
                float* d = dst + (long)p * stride;
                Vector256.Store(c0, d); Vector256.Store(c1, d + stride); Vector256.Store(c2, d + 2L * stride); Vector256.Store(c3, d + 3L * stride);
                Vector256.Store(c4, d + 4L * stride); Vector256.Store(c5, d + 5L * stride); Vector256.Store(c6, d + 6L * stride); Vector256.Store(c7, d + 7L * stride);
            }
        for (; p < kc; p++)
            Vector256.Store(Vector256.Create(s0[p], s1[p], s2[p], s3[p], s4[p], s5[p], s6[p], s7[p]), dst + (long)p * stride);
    }

    /// <summary>The classic AVX 8×8 transpose: unpack pairs, shuffle quads, swap 128-bit halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>)
        Transpose8x8(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3, Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7)
    {
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1); var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5); var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var q0 = Avx.Shuffle(t0, t2, 0x44); var q1 = Avx.Shuffle(t0, t2, 0xEE); var q2 = Avx.Shuffle(t1, t3, 0x44); var q3 = Avx.Shuffle(t1, t3, 0xEE);
        var q4 = Avx.Shuffle(t4, t6, 0x44); var q5 = Avx.Shuffle(t4, t6, 0xEE); var q6 = Avx.Shuffle(t5, t7, 0x44); var q7 = Avx.Shuffle(t5, t7, 0xEE);
        return (Avx.Permute2x128(q0, q4, 0x20), Avx.Permute2x128(q1, q5, 0x20), Avx.Permute2x128(q2, q6, 0x20), Avx.Permute2x128(q3, q7, 0x20),
                Avx.Permute2x128(q0, q4, 0x31), Avx.Permute2x128(q1, q5, 0x31), Avx.Permute2x128(q2, q6, 0x31), Avx.Permute2x128(q3, q7, 0x31));
    }

    /// <summary>C tile (mr×nr) += alpha·A panel·B panel, or = when <paramref name="store"/>.</summary>
    private static void Micro(int kc, float* a, float* b, int ldb, float* c, int ldc, float alpha, int mr, int nr, bool store)
    {
        if (Vector512.IsHardwareAccelerated) Micro512(kc, a, b, ldb, c, ldc, alpha, mr, nr, store);
        else if (Fma.IsSupported) Micro256(kc, a, b, ldb, c, ldc, alpha, mr, nr, store);
        else MicroPortable(kc, a, b, ldb, c, ldc, alpha, mr, nr, store);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Micro512(int kc, float* a, float* b, int ldb, float* c, int ldc, float alpha, int mr, int nr, bool store)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++, a += MR, b += ldb)
        {
            var b0 = Vector512.Load(b); var b1 = Vector512.Load(b + 16);
            var x = Vector512.Create(a[0]); c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[1]); c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[2]); c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[3]); c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a[4]); c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a[5]); c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a[6]); c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a[7]); c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
        }
        var al = Vector512.Create(alpha);
        if (mr == MR && nr == NR && store)
        {
            Set(c, c00, c01, al); Set(c + ldc, c10, c11, al); Set(c + 2 * ldc, c20, c21, al); Set(c + 3 * ldc, c30, c31, al);
            Set(c + 4 * ldc, c40, c41, al); Set(c + 5 * ldc, c50, c51, al); Set(c + 6 * ldc, c60, c61, al); Set(c + 7 * ldc, c70, c71, al);
            return;
        }
        if (mr == MR && nr == NR)
        {
            Acc(c, c00, c01, al); Acc(c + ldc, c10, c11, al); Acc(c + 2 * ldc, c20, c21, al); Acc(c + 3 * ldc, c30, c31, al);
            Acc(c + 4 * ldc, c40, c41, al); Acc(c + 5 * ldc, c50, c51, al); Acc(c + 6 * ldc, c60, c61, al); Acc(c + 7 * ldc, c70, c71, al);
            return;
        }
        if (Avx512F.IsSupported)
        {
            // An edge tile (N not a multiple of 32, as an LSTM's 28-column input-weight gradient
            // or Winograd's tile counts; or fewer than 8 rows): masked stores straight from the
            // accumulators touch only the columns that exist, and rows past mr are skipped.
            var m0 = LaneMask.First(nr);
            var m1 = LaneMask.First(nr - 16);
            EdgeRow(c, c00, c01, al, m0, m1, store);
            if (mr > 1) EdgeRow(c + ldc, c10, c11, al, m0, m1, store);
            if (mr > 2) EdgeRow(c + 2 * ldc, c20, c21, al, m0, m1, store);
            if (mr > 3) EdgeRow(c + 3 * ldc, c30, c31, al, m0, m1, store);
            if (mr > 4) EdgeRow(c + 4 * ldc, c40, c41, al, m0, m1, store);
            if (mr > 5) EdgeRow(c + 5 * ldc, c50, c51, al, m0, m1, store);
            if (mr > 6) EdgeRow(c + 6 * ldc, c60, c61, al, m0, m1, store);
            if (mr > 7) EdgeRow(c + 7 * ldc, c70, c71, al, m0, m1, store);
            return;
        }
        float* t = stackalloc float[MR * NR];
        Vector512.Store(c00, t); Vector512.Store(c01, t + 16); Vector512.Store(c10, t + 32); Vector512.Store(c11, t + 48);
        Vector512.Store(c20, t + 64); Vector512.Store(c21, t + 80); Vector512.Store(c30, t + 96); Vector512.Store(c31, t + 112);
        Vector512.Store(c40, t + 128); Vector512.Store(c41, t + 144); Vector512.Store(c50, t + 160); Vector512.Store(c51, t + 176);
        Vector512.Store(c60, t + 192); Vector512.Store(c61, t + 208); Vector512.Store(c70, t + 224); Vector512.Store(c71, t + 240);
        for (int r = 0; r < mr; r++)
            for (int j = 0; j < nr; j++) c[(long)r * ldc + j] = alpha * t[r * NR + j] + (store ? 0 : c[(long)r * ldc + j]);
    }

    /// <summary>
    /// One row of an edge tile: the lanes of <paramref name="m0"/> and <paramref name="m1"/> (columns 0..15 and
    /// 16..31), set or added.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void EdgeRow(float* c, Vector512<float> v0, Vector512<float> v1, Vector512<float> alpha, Vector512<float> m0, Vector512<float> m1, bool store)
    {
        var old0 = store ? Vector512<float>.Zero : Avx512F.MaskLoad(c, m0, Vector512<float>.Zero);
        Avx512F.MaskStore(c, m0, Vector512.FusedMultiplyAdd(v0, alpha, old0));
        if (m1 == Vector512<float>.Zero) return;
        var old1 = store ? Vector512<float>.Zero : Avx512F.MaskLoad(c + 16, m1, Vector512<float>.Zero);
        Avx512F.MaskStore(c + 16, m1, Vector512.FusedMultiplyAdd(v1, alpha, old1));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Set(float* c, Vector512<float> v0, Vector512<float> v1, Vector512<float> alpha)
    {
        Vector512.Store(v0 * alpha, c);
        Vector512.Store(v1 * alpha, c + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Acc(float* c, Vector512<float> v0, Vector512<float> v1, Vector512<float> alpha)
    {
        Vector512.Store(Vector512.FusedMultiplyAdd(v0, alpha, Vector512.Load(c)), c);
        Vector512.Store(Vector512.FusedMultiplyAdd(v1, alpha, Vector512.Load(c + 16)), c + 16);
    }

    /// <summary>
    /// AVX2 machines (16 vector registers): the 8×32 tile as four 4×16 quarters, each eight
    /// Vector256 accumulators fed by two B loads and four broadcasts per k (8 FMAs to 6 loads,
    /// and eight independent chains: enough to cover the FMA latency on both pipes). The
    /// quarters re-read the A and B panels, which the blocking keeps in L1 and L2.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Micro256(int kc, float* a, float* b, int ldb, float* c, int ldc, float alpha, int mr, int nr, bool store)
    {
        bool full = mr == MR && nr == NR;
        float* t = stackalloc float[full ? 1 : MR * NR];
        // Column halves outer: the two quarters of a half read the same 16 columns of B, which stay in L1 between them.
        for (int ch = 0; ch < NR; ch += 16)
        {
            if (ch >= nr) break;
            for (int rh = 0; rh < MR; rh += 4)
            {
                if (rh >= mr) break;
                // The accumulators are locals of this loop (not out parameters of a helper), so the JIT keeps them in registers.
                Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
                Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
                float* ap = a + rh, bp = b + ch;
                for (int p = 0; p < kc; p++, ap += MR, bp += ldb)
                {
                    var b0 = Vector256.Load(bp); var b1 = Vector256.Load(bp + 8);
                    var x = Vector256.Create(ap[0]); c00 = Fma.MultiplyAdd(x, b0, c00); c01 = Fma.MultiplyAdd(x, b1, c01);
                    x = Vector256.Create(ap[1]); c10 = Fma.MultiplyAdd(x, b0, c10); c11 = Fma.MultiplyAdd(x, b1, c11);
                    x = Vector256.Create(ap[2]); c20 = Fma.MultiplyAdd(x, b0, c20); c21 = Fma.MultiplyAdd(x, b1, c21);
                    x = Vector256.Create(ap[3]); c30 = Fma.MultiplyAdd(x, b0, c30); c31 = Fma.MultiplyAdd(x, b1, c31);
                }
                var al = Vector256.Create(alpha);
                if (full)
                {
                    float* d = c + (long)rh * ldc + ch;
                    Row256(d, c00, c01, al, store); Row256(d + ldc, c10, c11, al, store);
                    Row256(d + 2L * ldc, c20, c21, al, store); Row256(d + 3L * ldc, c30, c31, al, store);
                    continue;
                }
                float* q = t + rh * NR + ch;
                Vector256.Store(c00 * al, q); Vector256.Store(c01 * al, q + 8);
                Vector256.Store(c10 * al, q + NR); Vector256.Store(c11 * al, q + NR + 8);
                Vector256.Store(c20 * al, q + 2 * NR); Vector256.Store(c21 * al, q + 2 * NR + 8);
                Vector256.Store(c30 * al, q + 3 * NR); Vector256.Store(c31 * al, q + 3 * NR + 8);
            }
        }
        if (full) return;
        // An edge tile: only the rows and columns that exist.
        for (int r = 0; r < mr; r++)
            for (int j = 0; j < nr; j++) c[(long)r * ldc + j] = t[r * NR + j] + (store ? 0 : c[(long)r * ldc + j]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row256(float* c, Vector256<float> v0, Vector256<float> v1, Vector256<float> alpha, bool store)
    {
        if (store) { Vector256.Store(v0 * alpha, c); Vector256.Store(v1 * alpha, c + 8); return; }
        Vector256.Store(Fma.MultiplyAdd(v0, alpha, Vector256.Load(c)), c);
        Vector256.Store(Fma.MultiplyAdd(v1, alpha, Vector256.Load(c + 8)), c + 8);
    }

    /// <summary>Fallback for machines without AVX-512 or FMA: the same packed panels, Vector256 rows.</summary>
    private static void MicroPortable(int kc, float* a, float* b, int ldb, float* c, int ldc, float alpha, int mr, int nr, bool store)
    {
        var acc = stackalloc Vector256<float>[MR * 4];
        for (int i = 0; i < MR * 4; i++) acc[i] = default;
        for (int p = 0; p < kc; p++, a += MR, b += ldb)
        {
            var b0 = Vector256.Load(b); var b1 = Vector256.Load(b + 8); var b2 = Vector256.Load(b + 16); var b3 = Vector256.Load(b + 24);
            for (int r = 0; r < MR; r++)
            {
                var x = Vector256.Create(a[r]);
                acc[r * 4] += x * b0; acc[r * 4 + 1] += x * b1; acc[r * 4 + 2] += x * b2; acc[r * 4 + 3] += x * b3;
            }
        }
        float* t = (float*)acc;
        for (int r = 0; r < mr; r++)
            for (int j = 0; j < nr; j++) c[(long)r * ldc + j] = alpha * t[r * NR + j] + (store ? 0 : c[(long)r * ldc + j]);
    }
}
