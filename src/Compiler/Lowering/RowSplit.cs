namespace GraphNet.Compiler;

/// <summary>
/// Whether a scan's body computes each row of the batch from the same row of its inputs alone,
/// as a recurrent cell does (a GEMM of the rows by a captured weight, gates sliced along the
/// features, pointwise functions): then the loop can run on halves of the batch on two cores at
/// once, each half all the way through the sequence, with no synchronization per step (see
/// <see cref="ScanOp.RunRows"/>). A step is a few small kernels (an LSTM's is a 64×64×256 GEMM
/// and 4,096 gate values), too small to split each one over cores without the splitting costing
/// more than it saves; the rows of a batch are independent for the whole loop.
/// </summary>
internal static class RowSplit
{
    /// <summary>Rows below which a half of the batch is not worth a core of its own.</summary>
    public const int MinRows = 8;

    /// <summary>The reason the body's rows are not independent, or null when they are.</summary>
    public static string? Check(ScanOp scan)
    {
        var body = scan.Body;
        if (scan.Axis != 0) return $"sequences scanned along axis {scan.Axis}, not time-major";
        if (scan.Length < 0) return "the length is the symbolic dimension";
        if (body.Carries.Count + body.Xs.Count == 0) return "no carries or sequences to take the batch from";
        foreach (var t in body.Carries.Concat(body.Xs).Concat(body.CarryOut).Concat(body.Ys))
            if (!BatchFirst(t.Shape)) return $"{t.Name} {t.Type} does not have the batch first";
        foreach (var n in body.Schedule)
        {
            if (n.Op is RandomOp or DropoutOp) return $"{n.Name} draws random numbers by element index";
            if (n.Op is ScanOp) return $"{n.Name} is a scan inside the body";
            if (!n.Inputs.Any(i => i.Shape.IsSymbolic)) continue; // computed from captures alone: the same in every half
            var moved = n.Inputs.Where(t => t.Shape.IsSymbolic).Concat(n.Outputs).FirstOrDefault(t => !BatchFirst(t.Shape));
            if (moved is not null) return $"{n.Name} ({n.Op.Name}) mixes rows of the batch: {moved.Type} has no batch first";
            if (!RowWise(n)) return $"{n.Name} ({n.Op.Name}) mixes rows of the batch";
        }
        return null;
    }

    /// <summary>The batch is the first axis and no other.</summary>
    private static bool BatchFirst(Shape s) => s.Rank > 0 && s[0] == Shape.Batch && s.Dims.Skip(1).All(d => d >= 0);

    /// <summary>Ops whose output row r reads row r of their batch-first inputs (and any part of the others) only.</summary>
    private static bool RowWise(Node n) => n.Op switch
    {
        UnaryOp or BinaryOp or CompareOp or WhereOp or CastOp or BroadcastLikeOp or OneHotOp => true,
        MatMulOp m => !m.TransA && !m.SumBatch && n.Inputs[0].Rank == 2 && !n.Inputs[1].Shape.IsSymbolic,
        SliceOp s => Axis(s.Axis, n) != 0,
        ConcatOp c => Axis(c.Axis, n) != 0,
        TransposeOp t => t.Perm[0] == 0,
        ReshapeOp => true, // the batch first in and out (checked above): each row keeps its elements
        PadOp => true,     // the batch cannot be padded (its type check says so)
        ReduceOp r => !r.NormalizedAxes(n.Inputs[0].Rank).Contains(0),
        SoftmaxOp s => Axis(s.Axis, n) != 0,
        ArgMaxOp a => Axis(a.Axis, n) != 0,
        _ => false,
    };

    private static int Axis(int axis, Node n) => axis < 0 ? axis + n.Inputs[0].Rank : axis;
}
