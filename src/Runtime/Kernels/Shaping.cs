using System.Runtime.CompilerServices;
namespace GraphNet.Runtime.Kernels;

/// <summary>
/// Data movement (slice, pad, concat, transpose) as row copies straight into the output buffer. The ops'
/// reference evaluations allocate their result; in a compiled step or the interpreter with a
/// planned buffer that meant a fresh (often large-object-heap) array per op per step, which an
/// unrolled LSTM's backward pass (a pad per gate per time step) turned into most of its time.
/// </summary>
public static class Shaping
{
    private static int[] Resized(int[] shape, int axis, int size)
    {
        var r = (int[])shape.Clone();
        r[axis] = size;
        return r;
    }

    private static (int Outer, int Inner) Split(int[] shape, int axis)
    {
        int outer = 1, inner = 1; // loops, not LINQ: an unrolled LSTM calls these hundreds of times a step
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < shape.Length; i++) inner *= shape[i];
        return (outer, inner);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static NDArray Slice(NDArray x, SliceOp op, NDArray? into = null)
    {
        var s = x.Shape; int a = op.Axis < 0 ? op.Axis + s.Length : op.Axis;
        var y = into ?? NDArray.Zeros(x.DType, Resized(s, a, op.Length));
        var (outer, inner) = Split(s, a);
        if (x.Data is float[] xf && y.Data is float[] yf)
        {
            // Typed span copies: Array.Copy on untyped arrays checks types on every call, and an
            // unrolled LSTM slices 64 rows at a time, 139 times a step.
            int row = op.Length * inner;
            for (int o = 0; o < outer; o++) xf.AsSpan((o * s[a] + op.Start) * inner, row).CopyTo(yf.AsSpan(o * row, row));
            return y;
        }
        for (int o = 0; o < outer; o++) Array.Copy(x.Data, (o * s[a] + op.Start) * inner, y.Data, o * op.Length * inner, op.Length * inner);
        return y;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static NDArray Concat(NDArray[] x, ConcatOp op, NDArray? into = null)
    {
        int a = op.Axis < 0 ? op.Axis + x[0].Rank : op.Axis;
        int total = 0;
        foreach (var t in x) total += t.Shape[a];
        var y = into ?? NDArray.Zeros(x[0].DType, Resized(x[0].Shape, a, total));
        var (outer, inner) = Split(x[0].Shape, a);
        int rowOut = total * inner, pos = 0;
        foreach (var t in x)
        {
            int row = t.Shape[a] * inner;
            if (t.Data is float[] tf && y.Data is float[] yf)
                for (int o = 0; o < outer; o++) tf.AsSpan(o * row, row).CopyTo(yf.AsSpan(o * rowOut + pos, row));
            else
                for (int o = 0; o < outer; o++) Array.Copy(t.Data, o * row, y.Data, o * rowOut + pos, row);
            pos += row;
        }
        return y;
    }

    /// <summary>
    /// Permuted axes, copied in runs: the trailing axes the permutation leaves in place are one
    /// contiguous run in both arrays (a batch-first sequence made time-major moves whole feature rows).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static NDArray Transpose(NDArray x, TransposeOp op, NDArray? into = null)
    {
        var s = x.Shape; var perm = op.Perm; int r = s.Length;
        var shape = new int[r];
        for (int d = 0; d < r; d++) shape[d] = s[perm[d]];
        var y = into ?? NDArray.Zeros(x.DType, shape);
        int kept = r; // axes kept..r-1 stay where they are
        while (kept > 0 && perm[kept - 1] == kept - 1) kept--;
        int run = 1;
        for (int d = kept; d < r; d++) run *= s[d];
        if (x.Size == 0) return y;
        switch (x.Data)
        {
            case float[] f: Runs(f, (float[])y.Data, s, perm, shape, kept, run); break;
            case double[] f: Runs(f, (double[])y.Data, s, perm, shape, kept, run); break;
            case long[] f: Runs(f, (long[])y.Data, s, perm, shape, kept, run); break;
            case int[] f: Runs(f, (int[])y.Data, s, perm, shape, kept, run); break;
            case bool[] f: Runs(f, (bool[])y.Data, s, perm, shape, kept, run); break;
            default: throw new NotSupportedException($"transpose of {x.DType}");
        }
        return y;
    }

    private static void Runs<T>(T[] x, T[] y, int[] s, int[] perm, int[] shape, int kept, int run)
    {
        // The input strides of the output's leading (moved) axes, walked as an odometer.
        Span<int> stride = stackalloc int[kept];
        Span<int> idx = stackalloc int[kept];
        Span<int> inStride = stackalloc int[s.Length];
        for (int d = s.Length - 1, st = 1; d >= 0; d--) { inStride[d] = st; st *= s[d]; }
        for (int d = 0; d < kept; d++) stride[d] = inStride[perm[d]];
        int count = y.Length / run, off = 0;
        if (run == 1)
        {
            for (int o = 0; o < count; o++)
            {
                y[o] = x[off];
                for (int d = kept - 1; d >= 0; d--) { off += stride[d]; if (++idx[d] < shape[d]) break; off -= stride[d] * shape[d]; idx[d] = 0; }
            }
            return;
        }
        for (int o = 0; o < count; o++)
        {
            x.AsSpan(off, run).CopyTo(y.AsSpan(o * run, run));
            for (int d = kept - 1; d >= 0; d--) { off += stride[d]; if (++idx[d] < shape[d]) break; off -= stride[d] * shape[d]; idx[d] = 0; }
        }
    }

    /// <summary>Constant padding: fills the border with the value and copies the innermost rows into place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static NDArray Pad(NDArray x, PadOp op, NDArray? into = null)
    {
        var s = x.Shape; int r = s.Length;
        var shape = s.Select((d, i) => d + op.Pads[2 * i] + op.Pads[2 * i + 1]).ToArray();
        var y = into ?? NDArray.Zeros(x.DType, shape);
        if (op.Value != 0 || into is not null) Fill(y, op.Value);
        if (x.Size == 0) return y;
        int inner = s[r - 1], rows = x.Size / inner;
        Span<int> idx = stackalloc int[r];
        for (int row = 0; row < rows; row++)
        {
            int o = 0;
            for (int d = 0; d < r; d++) o = o * shape[d] + (d == r - 1 ? op.Pads[2 * d] : idx[d] + op.Pads[2 * d]);
            Array.Copy(x.Data, row * inner, y.Data, o, inner);
            for (int d = r - 2; d >= 0; d--) { if (++idx[d] < s[d]) break; idx[d] = 0; }
        }
        return y;
    }

    private static void Fill(NDArray y, double value)
    {
        switch (y.Data)
        {
            case float[] f: Array.Fill(f, (float)value); break;
            case double[] d: Array.Fill(d, value); break;
            case int[] i: Array.Fill(i, (int)value); break;
            case long[] l: Array.Fill(l, (long)value); break;
            case bool[] b: Array.Fill(b, value != 0); break;
        }
    }
}
