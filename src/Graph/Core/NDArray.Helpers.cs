namespace GraphNet;

/// <summary>
/// What users reach for on host arrays, with PyTorch's names: filled and random arrays, ranges,
/// batches of rows, elementwise arithmetic, and the reductions an accuracy needs.
/// </summary>
public sealed partial class NDArray
{
    public static NDArray Ones(DType dtype, params int[] shape) => Full(dtype, shape, 1);

    public static NDArray Full(DType dtype, int[] shape, double value)
    {
        var a = Zeros(dtype, shape);
        for (int i = 0; i < a.Size; i++) a.SetDouble(i, value);
        return a;
    }

    /// <summary>start, start + step, ... below end (torch.arange): ⌈(end − start)/step⌉ values.</summary>
    public static NDArray Arange(double start, double end, double step = 1, DType dtype = DType.Float32)
    {
        if (step == 0 || !double.IsFinite(start) || !double.IsFinite(end) || (end - start) / step < 0)
            throw new ArgumentException($"arange({start}, {end}, {step}): the step must be nonzero and lead from start to end");
        int n = (int)Math.Ceiling((end - start) / step);
        var a = Zeros(dtype, n);
        for (int i = 0; i < n; i++) a.SetDouble(i, start + i * step);
        return a;
    }

    /// <summary>0, 1, ..., n − 1 as int64 (torch.arange(n)).</summary>
    public static NDArray Arange(int n) => Arange(0, n, 1, DType.Int64);

    /// <summary>Uniform in [0, 1), the same for the same seed (the graph's counter-based generator).</summary>
    public static NDArray Rand(int[] shape, int seed = 0, DType dtype = DType.Float32)
    {
        var a = Zeros(dtype, shape);
        ulong key = CounterRng.Key((ulong)(uint)seed, 0x4E44);
        for (int i = 0; i < a.Size; i++) a.SetDouble(i, CounterRng.Uniform(key, (ulong)i));
        return a;
    }

    /// <summary>Standard normal, the same for the same seed.</summary>
    public static NDArray Randn(int[] shape, int seed = 0, DType dtype = DType.Float32)
    {
        var a = Zeros(dtype, shape);
        ulong key = CounterRng.Key((ulong)(uint)seed, 0x4E45);
        for (int i = 0; i < a.Size; i++) a.SetDouble(i, CounterRng.Normal(key, (ulong)i));
        return a;
    }

    /// <summary>Rows [start, start + count) along the first axis, copied (PyTorch's x[start:start + count]).</summary>
    public NDArray Slice(int start, int count)
    {
        if (Rank == 0) throw new InvalidOperationException("Slice needs an array with a first axis; this one is a scalar");
        if (start < 0 || count < 0 || start + count > Shape[0])
            throw new ArgumentOutOfRangeException(nameof(start), $"rows [{start}, {start + count}) are outside the {Shape[0]} rows of {ShapeString}");
        int row = Shape[0] == 0 ? 0 : Size / Shape[0];
        var y = Zeros(DType, [count, .. Shape[1..]]);
        Array.Copy(Data, start * row, y.Data, 0, count * row);
        return y;
    }

    /// <summary>Arrays of one dtype and row shape stacked along the first axis (torch.cat(xs, 0)).</summary>
    public static NDArray Concat(IReadOnlyList<NDArray> xs)
    {
        if (xs.Count == 0) throw new ArgumentException("Concat needs at least one array");
        var first = xs[0];
        foreach (var x in xs)
            if (x.Rank == 0 || x.DType != first.DType || !x.Shape.AsSpan(1).SequenceEqual(first.Shape.AsSpan(1)))
                throw new ArgumentException(
                    $"Concat: {x.DType.ShortName()}{x.ShapeString} does not stack under {first.DType.ShortName()}{first.ShapeString}");
        var y = Zeros(first.DType, [xs.Sum(x => x.Shape[0]), .. first.Shape[1..]]);
        int at = 0;
        foreach (var x in xs) { Array.Copy(x.Data, 0, y.Data, at, x.Size); at += x.Size; }
        return y;
    }

    /// <summary>The rows at these indices along the first axis, in that order (a shuffled batch: x[indices]).</summary>
    public NDArray Take(IReadOnlyList<int> indices)
    {
        if (Rank == 0) throw new InvalidOperationException("Take needs an array with a first axis; this one is a scalar");
        int row = Size / Math.Max(1, Shape[0]);
        var y = Zeros(DType, [indices.Count, .. Shape[1..]]);
        for (int i = 0; i < indices.Count; i++)
        {
            int r = indices[i];
            if (r < 0 || r >= Shape[0])
                throw new ArgumentOutOfRangeException(nameof(indices), $"row {r} is outside the {Shape[0]} rows of {ShapeString}");
            Array.Copy(Data, r * row, y.Data, i * row, row);
        }
        return y;
    }

    /// <summary>Elementwise a ∘ b for arrays of one shape, or with either a single element; the result has a's dtype.</summary>
    private static NDArray Zip(NDArray a, NDArray b, Func<double, double, double> f, string op)
    {
        bool scalarB = b.Size == 1, scalarA = a.Size == 1 && !scalarB;
        if (!scalarA && !scalarB && !a.Shape.SequenceEqual(b.Shape))
            throw new ArgumentException($"NDArray {op}: shapes {a.ShapeString} and {b.ShapeString} differ (one side may be a single element)");
        var shape = scalarA ? b.Shape : a.Shape;
        var y = Zeros(a.DType, (int[])shape.Clone());
        for (int i = 0; i < y.Size; i++) y.SetDouble(i, f(a.GetDouble(scalarA ? 0 : i), b.GetDouble(scalarB ? 0 : i)));
        return y;
    }

    private NDArray Map(Func<double, double> f)
    {
        var y = Zeros(DType, (int[])Shape.Clone());
        for (int i = 0; i < Size; i++) y.SetDouble(i, f(GetDouble(i)));
        return y;
    }

    public static NDArray operator +(NDArray a, NDArray b) => Zip(a, b, (x, y) => x + y, "+");
    public static NDArray operator -(NDArray a, NDArray b) => Zip(a, b, (x, y) => x - y, "-");
    public static NDArray operator *(NDArray a, NDArray b) => Zip(a, b, (x, y) => x * y, "*");
    public static NDArray operator /(NDArray a, NDArray b) => Zip(a, b, (x, y) => x / y, "/");
    public static NDArray operator +(NDArray a, double b) => a.Map(x => x + b);
    public static NDArray operator -(NDArray a, double b) => a.Map(x => x - b);
    public static NDArray operator *(NDArray a, double b) => a.Map(x => x * b);
    public static NDArray operator /(NDArray a, double b) => a.Map(x => x / b);
    public static NDArray operator *(double a, NDArray b) => b.Map(x => a * x);
    public static NDArray operator -(NDArray a) => a.Map(x => -x);

    public double Sum() { double s = 0; for (int i = 0; i < Size; i++) s += GetDouble(i); return s; }
    public double Mean() => Size == 0 ? double.NaN : Sum() / Size;
    public double Max() => Size == 0 ? throw new InvalidOperationException("Max of an empty array") : Enumerable.Range(0, Size).Max(GetDouble);

    /// <summary>The index of the largest value along the last axis (the first on ties), as int64: predicted classes.</summary>
    public NDArray ArgMax()
    {
        if (Rank == 0) throw new InvalidOperationException("ArgMax needs an axis; this array is a scalar");
        int c = Shape[^1], rows = c == 0 ? 0 : Size / c;
        var y = Zeros(DType.Int64, Shape[..^1]);
        for (int r = 0; r < rows; r++)
        {
            int best = 0;
            for (int j = 1; j < c; j++) if (GetDouble(r * c + j) > GetDouble(r * c + best)) best = j;
            y.SetDouble(r, best);
        }
        return y;
    }
}
