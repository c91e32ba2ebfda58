namespace GraphNet.Runtime.Kernels;

/// <summary>The matmul op on <see cref="Gemm"/>: 2-D, batched, or batched with a shared right operand.</summary>
public static class MatMul
{
    public static NDArray Forward(NDArray a, NDArray b, MatMulOp op, NDArray? into = null)
    {
        var (batch, m, n, k) = op.Dims(a.Shape, b.Shape);
        if (op.SumBatch)
        {
            // Σ_b a_bᵀ·b_b is one GEMM over all the batch's rows: a is [batch·k, m], b is [batch·k, n].
            var sum = into ?? NDArray.Zeros(DType.Float32, m, n);
            Gemm.Sgemm(true, false, m, n, batch * k, 1f, a.As<float>(), m, b.As<float>(), n, 0f, sum.As<float>(), n);
            return sum;
        }
        int rowsOut = op.TransA ? a.Shape[^1] : a.Shape[^2];
        var y = into ?? NDArray.Zeros(DType.Float32, OutShape(a.Shape, rowsOut, n));
        float[] A = a.As<float>(), B = b.As<float>(), C = y.As<float>();
        int lda = op.TransA ? m : k, ldb = op.TransB ? k : n;
        bool sharedB = b.Rank == 2;
        for (int p = 0; p < batch; p++)
            Gemm.Sgemm(op.TransA, op.TransB, m, n, k, 1f, A.AsSpan(p * m * k), lda, B.AsSpan(sharedB ? 0 : p * k * n), ldb,
                0f, C.AsSpan(p * m * n), n, parallel: batch == 1);
        return y;
    }

    private static int[] OutShape(int[] a, int rows, int n)
    {
        var shape = new int[a.Length];
        Array.Copy(a, shape, a.Length - 2);
        shape[^2] = rows; shape[^1] = n;
        return shape;
    }
}
