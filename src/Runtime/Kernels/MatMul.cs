using System.Runtime.CompilerServices;
namespace GraphNet.Runtime.Kernels;

/// <summary>
/// The matmul op on <see cref="Gemm"/> (float32) or <see cref="Dgemm"/> (float64): 2-D, batched, or
/// batched with a shared right operand.
/// </summary>
public static class MatMul
{
    public static NDArray Forward(NDArray a, NDArray b, MatMulOp op, NDArray? into = null) =>
        a.DType == DType.Float64 ? Forward<double>(a, b, op, into) : Forward<float>(a, b, op, into);

    private static NDArray Forward<T>(NDArray a, NDArray b, MatMulOp op, NDArray? into) where T : unmanaged
    {
        var dtype = a.DType;
        var (batch, m, n, k) = op.Dims(a.Shape, b.Shape);
        if (op.SumBatch)
        {
            // Σ_b a_bᵀ·b_b is one GEMM over all the batch's rows: a is [batch·k, m], b is [batch·k, n].
            var sum = into ?? NDArray.Zeros(dtype, m, n);
            Gemm.Typed<T>(true, false, m, n, batch * k, a.As<T>(), m, b.As<T>(), n, 0f, sum.As<T>(), n);
            return sum;
        }
        int rowsOut = op.TransA ? a.Shape[^1] : a.Shape[^2];
        var y = into ?? NDArray.Zeros(dtype, OutShape(a.Shape, rowsOut, n));
        T[] A = a.As<T>(), B = b.As<T>(), C = y.As<T>();
        int lda = op.TransA ? m : k, ldb = op.TransB ? k : n;
        bool sharedB = b.Rank == 2;
        if (sharedB && !op.TransA)
        {
            // [batch, m, k]·[k, n]: the batch's rows are one [batch·m, k] matrix, so one GEMM (packing B
            // once, split over cores) instead of one per batch entry: an LSTM's input projection
            // over all its time steps was 64 single-threaded 28×512×28 products.
            Gemm.Typed<T>(false, op.TransB, batch * m, n, k, A, lda, B, ldb, 0f, C, n);
            return y;
        }
        if (batch == 1) Gemm.Typed<T>(op.TransA, op.TransB, m, n, k, A, lda, B, ldb, 0f, C, n);
        else Batched(op, batch, m, n, k, A, lda, B, ldb, sharedB, C);
        return y;
    }

    /// <summary>Packs the right operand of a float32 matmul with a 2-D right operand, for <see cref="ForwardPacked"/>.</summary>
    public static void PackRight(NDArray b, MatMulOp op, Gemm.PackedB into)
    {
        int k = op.TransB ? b.Shape[1] : b.Shape[0], n = op.TransB ? b.Shape[0] : b.Shape[1];
        into.Pack(op.TransB, b.As<float>(), b.Shape[1], k, n);
    }

    /// <summary>
    /// The float32 matmul of a (2-D, or of any rank when not transposed) by a right operand packed
    /// by <see cref="PackRight"/>, into y, on this thread.
    /// </summary>
    public static void ForwardPacked(NDArray a, Gemm.PackedB b, MatMulOp op, NDArray y)
    {
        int rows = op.TransA ? a.Shape[1] : a.Size / a.Shape[^1];
        Gemm.SgemmPacked(op.TransA, rows, a.As<float>(), a.Shape[^1], b, y.As<float>(), b.N);
    }

    /// <summary>Whether <see cref="ForwardPacked"/> computes this matmul: float32, a 2-D right operand, a 2-D left one when transposed.</summary>
    public static bool CanPack(MatMulOp op, TensorType a, TensorType b) =>
        a.DType == DType.Float32 && !op.SumBatch && b.Shape.Rank == 2 && (a.Shape.Rank == 2 || !op.TransA);

    /// <summary>One GEMM per batch entry, the entries spread over cores (a method of its own: its closure is allocated only here).</summary>
    private static void Batched<T>(MatMulOp op, int batch, int m, int n, int k, T[] A, int lda, T[] B, int ldb, bool sharedB, T[] C)
        where T : unmanaged
    {
        int workers = (long)batch * m * n * k >= Gemm.ParallelThreshold ? Math.Min(batch, Environment.ProcessorCount) : 1;
        Work.Dynamic(batch, workers, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (_, p) =>
            Gemm.Typed<T>(op.TransA, op.TransB, m, n, k, A.AsSpan(p * m * k), lda, B.AsSpan(sharedB ? 0 : p * k * n), ldb,
                0f, C.AsSpan(p * m * n), n, parallel: false));
    }

    private static int[] OutShape(int[] a, int rows, int n)
    {
        var shape = new int[a.Length];
        Array.Copy(a, shape, a.Length - 2);
        shape[^2] = rows; shape[^1] = n;
        return shape;
    }
}
