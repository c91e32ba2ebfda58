namespace GraphNet;

/// <summary>
/// How several inputs are read while walking an output in row-major order under NumPy
/// broadcasting: per input one stride per (coalesced) output dimension, 0 where broadcast, and
/// a first element (0, except for views such as a slice read in place from a larger buffer).
/// </summary>
public sealed class BroadcastPlan
{
    public readonly int[] Dims;       // coalesced output dimensions
    public readonly int[][] Strides;  // per input, per coalesced dimension
    public readonly int[] Offsets;    // per input, the element read first
    public readonly int Size;

    public BroadcastPlan(int[] outShape, params int[][] inShapes)
        : this(outShape, inShapes.Select(s => StridesFor(s, outShape)).ToArray(), new int[inShapes.Length]) { }

    /// <summary>Inputs given by their strides over the output's dimensions (0 where broadcast) and the offset of their first element.</summary>
    public BroadcastPlan(int[] outShape, int[][] strides, int[] offsets)
    {
        int r = outShape.Length;
        Offsets = offsets;
        // Merge neighbouring dimensions that every input walks contiguously (or not at all).
        var dims = new List<int>(); var merged = strides.Select(_ => new List<int>()).ToArray();
        for (int d = 0; d < r; d++)
        {
            if (outShape[d] == 1) continue;
            bool canMerge = dims.Count > 0;
            for (int k = 0; k < strides.Length && canMerge; k++)
                canMerge = merged[k][^1] == strides[k][d] * outShape[d];
            if (canMerge)
            {
                dims[^1] *= outShape[d];
                for (int k = 0; k < strides.Length; k++) merged[k][^1] = strides[k][d];
            }
            else
            {
                dims.Add(outShape[d]);
                for (int k = 0; k < strides.Length; k++) merged[k].Add(strides[k][d]);
            }
        }
        if (dims.Count == 0) { dims.Add(1); foreach (var m in merged) m.Add(0); }
        Dims = dims.ToArray();
        Strides = merged.Select(m => m.ToArray()).ToArray();
        Size = (int)NDArray.SizeOf(outShape);
    }

    /// <summary>Strides of an input (right-aligned) over the output shape, 0 on broadcast dims.</summary>
    public static int[] StridesFor(int[] inShape, int[] outShape)
    {
        int r = outShape.Length, off = r - inShape.Length;
        var s = new int[r]; int stride = 1;
        for (int d = r - 1; d >= 0; d--)
        {
            int id = d - off;
            if (id < 0) { s[d] = 0; continue; }
            s[d] = inShape[id] == 1 && outShape[d] != 1 ? 0 : stride;
            stride *= inShape[id];
        }
        return s;
    }

    /// <summary>Broadcast output shape of concrete shapes, with a clear error on mismatch.</summary>
    public static int[] OutShape(string op, params int[][] shapes)
    {
        int r = shapes.Max(s => s.Length);
        var o = Enumerable.Repeat(1, r).ToArray();
        foreach (var s in shapes)
            for (int i = 0; i < s.Length; i++)
            {
                int d = r - s.Length + i;
                if (s[i] == o[d] || s[i] == 1) continue;
                if (o[d] == 1) { o[d] = s[i]; continue; }
                throw new GraphException($"{op}: shapes {string.Join(" and ", shapes.Select(x => "[" + string.Join(",", x) + "]"))} cannot be broadcast at run time");
            }
        return o;
    }

    /// <summary>Runs along the innermost dimension: the output is visited as this many runs of its last coalesced dimension.</summary>
    public int Runs => Size / Math.Max(Dims[^1], 1);

    /// <summary>Visits the output in runs along the innermost dimension.</summary>
    public void ForEachRun<TVisitor>(ref TVisitor v) where TVisitor : struct, IRunVisitor => ForEachRun(ref v, 0, Runs);

    /// <summary>Visits runs [<paramref name="first"/>, <paramref name="end"/>) only (a share of the output for one core).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void ForEachRun<TVisitor>(ref TVisitor v, int first, int end) where TVisitor : struct, IRunVisitor
    {
        int r = Dims.Length, inner = Dims[r - 1], n = Strides.Length;
        Span<int> offs = stackalloc int[n];
        Offsets.CopyTo(offs);
        Span<int> innerStrides = stackalloc int[n];
        for (int k = 0; k < n; k++) innerStrides[k] = Strides[k][r - 1];
        Span<int> idx = stackalloc int[r];
        // Where run `first` starts: its coordinates over the outer dimensions, and each input's offset there.
        for (int d = r - 2, rest = first; d >= 0; d--)
        {
            idx[d] = rest % Dims[d];
            rest /= Dims[d];
            for (int k = 0; k < n; k++) offs[k] += idx[d] * Strides[k][d];
        }
        for (int o = first; o < end; o++)
        {
            v.Run(o * inner, offs, innerStrides, inner);
            for (int d = r - 2; d >= 0; d--)
            {
                idx[d]++;
                for (int k = 0; k < n; k++) offs[k] += Strides[k][d];
                if (idx[d] < Dims[d]) break;
                for (int k = 0; k < n; k++) offs[k] -= Strides[k][d] * Dims[d];
                idx[d] = 0;
            }
        }
    }
}

public interface IRunVisitor
{
    /// <summary>Output elements [outStart, outStart+count); input k starts at offs[k] with step strides[k].</summary>
    void Run(int outStart, ReadOnlySpan<int> offs, ReadOnlySpan<int> strides, int count);
}
