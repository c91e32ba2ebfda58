using System.Text;

namespace GraphNet;

/// <summary>
/// A tensor shape. A dimension may be the symbolic batch size <c>N</c> (stored as
/// <see cref="Batch"/>), so a graph built once runs for every batch size, or a static multiple
/// of it, <c>k·N</c> (stored as <c>-k</c>: what <c>view(-1, V)</c> of a <c>[T,N,V]</c> tensor makes).
/// </summary>
public sealed class Shape : IEquatable<Shape>
{
    /// <summary>The value that marks the symbolic batch dimension.</summary>
    public const int Batch = -1;

    private readonly int[] dims;

    /// <summary>A shape of static sizes, <see cref="Batch"/> for N, and <c>-k</c> for k·N.</summary>
    public Shape(params int[] dims) => this.dims = (int[])dims.Clone();

    /// <summary>The dimension k·N (k ≥ 1).</summary>
    public static int BatchTimes(int k) =>
        k >= 1 ? -k : throw new ArgumentException($"a multiple of the batch needs k >= 1, not {k}");

    /// <summary>The size of dimension <paramref name="d"/> when the batch is <paramref name="batch"/>.</summary>
    public static int SizeOf(int d, int batch) => d < 0 ? -d * batch : d;

    public static Shape Scalar { get; } = new();

    public int Rank => dims.Length;
    public int this[int i] => dims[i];
    public int this[Index i] => dims[i];
    public IReadOnlyList<int> Dims => dims;
    public int[] ToArray() => (int[])dims.Clone();

    /// <summary>True when some dimension is the symbolic batch size or a multiple of it.</summary>
    public bool IsSymbolic { get { foreach (var d in dims) if (d < 0) return true; return false; } }

    /// <summary>
    /// The size divided by N: the product of the static dimensions, k for a dimension k·N (so N
    /// counts as 1). A symbolic shape holds <c>StaticSize * N</c> elements.
    /// </summary>
    public long StaticSize { get { long s = 1; foreach (var d in dims) s *= d < 0 ? -d : d; return s; } }

    /// <summary>How many elements the shape holds when the batch is <paramref name="batch"/>.</summary>
    public long Elements(int batch) => StaticSize * (IsSymbolic ? batch : 1);

    /// <summary>The concrete dimensions for a given batch size.</summary>
    public int[] Resolve(int batch)
    {
        var r = new int[dims.Length]; // a loop, not LINQ: runtimes call this per kernel call
        for (int i = 0; i < r.Length; i++) r[i] = SizeOf(dims[i], batch);
        return r;
    }

    /// <summary>Normalizes a possibly negative axis, naming the op in the error.</summary>
    public int Axis(int axis, string op)
    {
        int a = axis < 0 ? axis + Rank : axis;
        if (a < 0 || a >= Rank) throw new ShapeException($"{op}: axis {axis} is out of range for rank-{Rank} shape {this}");
        return a;
    }

    public Shape With(int axis, int value) { var d = ToArray(); d[axis] = value; return new Shape(d); }

    /// <summary>NumPy broadcasting of two shapes; N broadcasts against 1 and matches N.</summary>
    public static Shape Broadcast(Shape a, Shape b, string op)
    {
        int r = Math.Max(a.Rank, b.Rank);
        var o = new int[r];
        for (int i = 0; i < r; i++)
        {
            int da = i < r - a.Rank ? 1 : a[i - (r - a.Rank)];
            int db = i < r - b.Rank ? 1 : b[i - (r - b.Rank)];
            if (da == db) o[i] = da;
            else if (da == 1) o[i] = db;
            else if (db == 1) o[i] = da;
            else throw new ShapeException($"{op}: shapes {a} and {b} cannot be broadcast (dimension {i}: {Dim(da)} vs {Dim(db)})");
        }
        return new Shape(o);
    }

    internal static string Dim(int d) => d == Batch ? "N" : d < 0 ? $"{-d}N" : d.ToString();

    /// <summary>Dimension <paramref name="d"/> as a C# expression, N written as <paramref name="n"/>.</summary>
    public static string Expr(int d, string n = "N") =>
        d == Batch ? n : d < 0 ? $"({-d} * {n})" : d.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public override string ToString()
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < dims.Length; i++) { if (i > 0) sb.Append(','); sb.Append(Dim(dims[i])); }
        return sb.Append(']').ToString();
    }

    public bool Equals(Shape? other) => other is not null && dims.AsSpan().SequenceEqual(other.dims);
    public override bool Equals(object? obj) => Equals(obj as Shape);
    public override int GetHashCode() { var h = new HashCode(); foreach (var d in dims) h.Add(d); return h.ToHashCode(); }
    public static bool operator ==(Shape? a, Shape? b) => a is null ? b is null : a.Equals(b);
    public static bool operator !=(Shape? a, Shape? b) => !(a == b);
    public static implicit operator Shape(int[] dims) => new(dims);
}

/// <summary>The static type of a node output: element type and shape.</summary>
public sealed record TensorType(DType DType, Shape Shape)
{
    public override string ToString() => DType.ShortName() + Shape;
}
