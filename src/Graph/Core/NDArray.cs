using System.Globalization;
using System.Text;

namespace GraphNet;

/// <summary>
/// A dense, row-major array with a concrete shape: the value of a tensor at run time.
/// The data is a plain .NET array (float[], double[], int[], long[] or bool[]).
/// </summary>
public sealed partial class NDArray
{
    public DType DType { get; }
    public int[] Shape { get; }
    public Array Data { get; }
    public int Size => Data.Length;
    public int Rank => Shape.Length;

    public NDArray(DType dtype, int[] shape, Array data)
    {
        long n = SizeOf(shape);
        if (data.Length != n) throw new ArgumentException($"data has {data.Length} elements but shape [{string.Join(",", shape)}] needs {n}");
        if (data.GetType().GetElementType() != dtype.ClrType()) throw new ArgumentException($"data of type {data.GetType().Name} does not hold {dtype}");
        DType = dtype; Shape = shape; Data = data;
    }

    public static long SizeOf(IReadOnlyList<int> shape) { long n = 1; foreach (var d in shape) n *= d; return n; }

    public static NDArray Zeros(DType dtype, params int[] shape) =>
        new(dtype, shape, Array.CreateInstance(dtype.ClrType(), checked((int)SizeOf(shape))));

    public static NDArray From(float[] data, params int[] shape) => new(DType.Float32, shape, data);
    public static NDArray From(double[] data, params int[] shape) => new(DType.Float64, shape, data);
    public static NDArray From(int[] data, params int[] shape) => new(DType.Int32, shape, data);
    public static NDArray From(long[] data, params int[] shape) => new(DType.Int64, shape, data);
    public static NDArray From(bool[] data, params int[] shape) => new(DType.Bool, shape, data);
    public static NDArray Scalar(float v) => From([v]);
    public static NDArray Scalar(double v) => From([v]);

    /// <summary>A scalar of the given dtype holding <paramref name="v"/>.</summary>
    public static NDArray Scalar(DType dtype, double v) => dtype switch
    {
        DType.Float32 => From([(float)v]),
        DType.Float64 => From([v]),
        DType.Int32 => From([(int)v]),
        DType.Int64 => From([(long)v]),
        DType.Bool => From([v != 0]),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>The raw little-endian bytes of the data (a view, not a copy).</summary>
    public Span<byte> AsBytes() => Data switch
    {
        float[] x => System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.AsSpan()),
        double[] x => System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.AsSpan()),
        int[] x => System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.AsSpan()),
        long[] x => System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.AsSpan()),
        bool[] x => System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.AsSpan()),
        _ => throw new InvalidOperationException($"no byte view of {Data.GetType().Name}"),
    };

    public T[] As<T>() => Data as T[] ?? throw new InvalidCastException($"tensor holds {DType}, not {typeof(T).Name}");
    public Span<T> Span<T>() => As<T>().AsSpan();

    /// <summary>Element <paramref name="i"/> (flat index) converted to double, for any dtype.</summary>
    public double GetDouble(int i) => Data switch
    {
        float[] f => f[i],
        double[] d => d[i],
        int[] n => n[i],
        long[] l => l[i],
        bool[] b => b[i] ? 1 : 0,
        _ => throw new InvalidOperationException(),
    };

    /// <summary>Writes element i, converted to the array's type.</summary>
    public void SetDouble(int i, double v)
    {
        switch (Data)
        {
            case float[] f: f[i] = (float)v; break;
            case double[] d: d[i] = v; break;
            case int[] n: n[i] = (int)v; break;
            case long[] l: l[i] = (long)v; break;
            case bool[] b: b[i] = v != 0; break;
            default: throw new InvalidOperationException();
        }
    }

    /// <summary>The value of a one-element tensor.</summary>
    public double Item() => Size == 1 ? GetDouble(0) : throw new InvalidOperationException($"Item() needs one element, tensor has shape [{string.Join(",", Shape)}]");

    public float[] ToFloatArray() => DType == DType.Float32 ? (float[])As<float>().Clone() : Enumerable.Range(0, Size).Select(i => (float)GetDouble(i)).ToArray();
    public double[] ToDoubleArray() => Enumerable.Range(0, Size).Select(GetDouble).ToArray();

    public NDArray Reshape(params int[] shape) => new(DType, shape, Data);
    public NDArray Clone() => new(DType, (int[])Shape.Clone(), (Array)Data.Clone());

    public string ShapeString => "[" + string.Join(",", Shape) + "]";

    public override string ToString()
    {
        var sb = new StringBuilder($"{DType.ShortName()}{ShapeString} ");
        int n = Math.Min(Size, 12);
        sb.Append('{');
        for (int i = 0; i < n; i++) sb.Append(i > 0 ? ", " : "").Append(GetDouble(i).ToString("G6", CultureInfo.InvariantCulture));
        if (Size > n) sb.Append(", ...");
        return sb.Append('}').ToString();
    }
}
