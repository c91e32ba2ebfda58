namespace GraphNet;

/// <summary>Element type of a tensor.</summary>
public enum DType { Float32, Float64, Int32, Int64, Bool }

public static class DTypeExtensions
{
    /// <summary>Short name used in the text form: f32, f64, i32, i64, bool.</summary>
    public static string ShortName(this DType t) => t switch
    {
        DType.Float32 => "f32",
        DType.Float64 => "f64",
        DType.Int32 => "i32",
        DType.Int64 => "i64",
        DType.Bool => "bool",
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    public static bool IsFloat(this DType t) => t is DType.Float32 or DType.Float64;
    public static bool IsInteger(this DType t) => t is DType.Int32 or DType.Int64;

    public static int SizeInBytes(this DType t) => t switch
    {
        DType.Float32 or DType.Int32 => 4,
        DType.Float64 or DType.Int64 => 8,
        DType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    internal static Type ClrType(this DType t) => t switch
    {
        DType.Float32 => typeof(float),
        DType.Float64 => typeof(double),
        DType.Int32 => typeof(int),
        DType.Int64 => typeof(long),
        DType.Bool => typeof(bool),
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    public static DType Of<T>() => typeof(T) == typeof(float) ? DType.Float32
        : typeof(T) == typeof(double) ? DType.Float64
        : typeof(T) == typeof(int) ? DType.Int32
        : typeof(T) == typeof(long) ? DType.Int64
        : typeof(T) == typeof(bool) ? DType.Bool
        : throw new ArgumentException($"{typeof(T).Name} is not a GraphNet element type");
}
