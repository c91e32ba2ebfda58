using System.Numerics;

namespace GraphNet;

/// <summary>
/// Matrix product of the last two axes, with optional transposes. Supported: [M,K]x[K,N],
/// batched [..,M,K]x[..,K,N] with equal batch axes, and [..,M,K]x[K,N] (shared right operand).
/// </summary>
public sealed record MatMulOp(bool TransA = false, bool TransB = false, bool SumBatch = false) : Op
{
    public override string Name => "matmul";
    public override IEnumerable<(string, object?)> Attributes() =>
        ((TransA, TransB) == (false, false) ? [] : new (string, object?)[] { ("transA", TransA), ("transB", TransB) })
        .Concat(SumBatch ? [("sum_batch", (object?)true)] : []);

    public override TensorType[] InferTypes(TensorType[] x)
    {
        ExpectInputs(Name, x, 2); ExpectFloat(Name, x[0]); ExpectSameDType(Name, x[0], x[1]);
        Shape a = x[0].Shape, b = x[1].Shape;
        if (a.Rank < 2 || b.Rank < 2) throw Error($"matmul needs operands of rank >= 2, got {a} and {b}");
        if (b.Rank > 2 && b.Rank != a.Rank) throw Error($"matmul: batched operands need the same rank, got {a} and {b}");
        if (b.Rank > 2)
            for (int i = 0; i < a.Rank - 2; i++)
                if (a[i] != b[i]) throw Error($"matmul: batch dimensions differ: {a} vs {b}");
        if (a.Rank > 2 && b.Rank == 2 && TransA) throw Error("matmul: transA is not supported with a shared 2-D right operand");
        int m = TransA ? a[^1] : a[^2], ka = TransA ? a[^2] : a[^1];
        int kb = TransB ? b[^1] : b[^2], n = TransB ? b[^2] : b[^1];
        if (ka != kb) throw Error($"matmul: inner dimensions differ: {a}{(TransA ? "ᵀ" : "")} x {b}{(TransB ? "ᵀ" : "")} ({Shape.Dim(ka)} vs {Shape.Dim(kb)})");
        if (SumBatch)
        {
            // Σ over the batch of aᵀ·b: the gradient of a weight shared by every batch element.
            if (!TransA || TransB || a.Rank < 3 || b.Rank != a.Rank) throw Error($"matmul: sum_batch needs transA, no transB and batched operands of one rank, got {a} and {b}");
            return [new TensorType(x[0].DType, new Shape(m, n))];
        }
        var dims = a.Dims.Take(a.Rank - 2).Append(m).Append(n).ToArray();
        return [new TensorType(x[0].DType, new Shape(dims))];
    }

    public override Tensor?[] Gradient(GradContext g)
    {
        Tensor a = g.X[0], b = g.X[1], dy = g.Dy;
        if (SumBatch) throw new GraphException("second-order gradients through a batch-summed matmul are not supported");
        Tensor? da = !g.Needs(0) ? null : (TransA, TransB) switch
        {
            (false, false) => F.MatMul(dy, b, false, true),
            (false, true) => F.MatMul(dy, b, false, false),
            (true, false) => F.MatMul(b, dy, false, true),
            _ => F.MatMul(b, dy, true, true),
        };
        Tensor? db;
        if (!g.Needs(1)) db = null;
        else if (a.Rank > 2 && b.Rank == 2)
        {
            // The shared operand's gradient sums the per-batch products: one op, so the symbolic
            // batch never has to merge with another axis, and kernels can run it as one GEMM
            // over all the batch's rows.
            db = g.Graph.Add1(new MatMulOp(true, false, SumBatch: true), TransB ? [dy, a] : [a, dy]);
        }
        else db = (TransA, TransB) switch
        {
            (false, false) => F.MatMul(a, dy, true, false),
            (false, true) => F.MatMul(dy, a, true, false),
            (true, false) => F.MatMul(a, dy, false, false),
            _ => F.MatMul(dy, a, true, true),
        };
        return [da, db];
    }

    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x) =>
        [x[0].DType == DType.Float32 ? Eval<float>(x[0], x[1]) : Eval<double>(x[0], x[1])];

    private NDArray Eval<T>(NDArray a, NDArray b) where T : IFloatingPointIeee754<T>
    {
        var (batch, m, n, k) = Dims(a.Shape, b.Shape);
        var outShape = SumBatch ? [m, n] : a.Shape.Take(a.Rank - 2).Append(TransA ? a.Shape[^1] : a.Shape[^2]).Append(n).ToArray();
        var y = NDArray.Zeros(a.DType, outShape);
        T[] A = a.As<T>(), B = b.As<T>(), C = y.As<T>();
        bool sharedB = b.Rank == 2;
        for (int p = 0; p < batch; p++)
        {
            int ao = p * m * k, bo = sharedB ? 0 : p * k * n, co = SumBatch ? 0 : p * m * n;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    T s = T.Zero;
                    for (int q = 0; q < k; q++)
                        s += A[ao + (TransA ? q * m + i : i * k + q)] * B[bo + (TransB ? j * k + q : q * n + j)];
                    C[co + i * n + j] = SumBatch ? C[co + i * n + j] + s : s;
                }
        }
        return y;
    }

    /// <summary>(batch count, M, N, K) of concrete operand shapes. A shared 2-D B folds A's batch into M.</summary>
    public (int Batch, int M, int N, int K) Dims(int[] a, int[] b)
    {
        int m = TransA ? a[^1] : a[^2], k = TransA ? a[^2] : a[^1];
        int n = TransB ? b[^2] : b[^1], kb = TransB ? b[^1] : b[^2];
        if (k != kb) throw new GraphException($"matmul: inner dimensions differ at run time: [{string.Join(",", a)}] x [{string.Join(",", b)}]");
        int batch = 1;
        for (int i = 0; i < a.Length - 2; i++) batch *= a[i]; // no LINQ: this runs on every matmul call
        if (b.Length == 2 && batch > 1 && !TransA) return (1, m * batch, n, k);
        return (batch, m, n, k);
    }
}
