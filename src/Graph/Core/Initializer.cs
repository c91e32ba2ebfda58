namespace GraphNet;

/// <summary>
/// How a variable gets its first value. Draws come from the counter-based generator keyed by the
/// graph seed and the variable's name, so a model starts the same on every backend and run.
/// </summary>
public abstract record Initializer
{
    public abstract NDArray Create(DType dtype, int[] shape, ulong key);

    public static Initializer Zeros { get; } = new ConstantInit(0);
    public static Initializer Ones { get; } = new ConstantInit(1);
    public static Initializer Constant(double v) => new ConstantInit(v);
    public static Initializer Uniform(double low, double high) => new UniformInit(low, high);
    public static Initializer Normal(double mean, double std) => new NormalInit(mean, std);
    /// <summary>A fixed value, e.g. to start from given weights.</summary>
    public static Initializer FromValue(NDArray value) => new ValueInit(value);

    protected static NDArray Fill(DType dtype, int[] shape, Func<int, double> f)
    {
        var a = NDArray.Zeros(dtype, shape);
        switch (a.Data)
        {
            case float[] x: for (int i = 0; i < x.Length; i++) x[i] = (float)f(i); break;
            case double[] x: for (int i = 0; i < x.Length; i++) x[i] = f(i); break;
            case int[] x: for (int i = 0; i < x.Length; i++) x[i] = (int)f(i); break;
            case long[] x: for (int i = 0; i < x.Length; i++) x[i] = (long)f(i); break;
            case bool[] x: for (int i = 0; i < x.Length; i++) x[i] = f(i) != 0; break;
        }
        return a;
    }
}

public sealed record ConstantInit(double Value) : Initializer
{
    public override NDArray Create(DType dtype, int[] shape, ulong key) => Fill(dtype, shape, _ => Value);
    public override string ToString() => $"constant({GraphText.FormatValue(Value)})";
}

public sealed record UniformInit(double Low, double High) : Initializer
{
    public override NDArray Create(DType dtype, int[] shape, ulong key) => Fill(dtype, shape, i => Low + (High - Low) * CounterRng.Uniform(key, (ulong)i));
    public override string ToString() => $"uniform({GraphText.FormatValue(Low)},{GraphText.FormatValue(High)})";
}

public sealed record NormalInit(double Mean, double Std) : Initializer
{
    public override NDArray Create(DType dtype, int[] shape, ulong key) => Fill(dtype, shape, i => Mean + Std * CounterRng.Normal(key, (ulong)i));
    public override string ToString() => $"normal({GraphText.FormatValue(Mean)},{GraphText.FormatValue(Std)})";
}

public sealed record ValueInit(NDArray Value) : Initializer
{
    public override NDArray Create(DType dtype, int[] shape, ulong key)
    {
        if (!Value.Shape.SequenceEqual(shape)) throw new GraphException($"initial value {Value.ShapeString} does not match variable shape [{string.Join(",", shape)}]");
        return CastOp.Convert(Value, dtype).Clone();
    }
    public override string ToString() => $"value({Value.ShapeString})";
}

/// <summary>Another initializer's values with one row of a matrix zeroed (an embedding's padding row, as PyTorch).</summary>
public sealed record ZeroRowInit(Initializer Inner, int Row) : Initializer
{
    public override NDArray Create(DType dtype, int[] shape, ulong key)
    {
        if (shape.Length != 2 || Row < 0 || Row >= shape[0])
            throw new GraphException($"zero_row({Row}) needs a matrix with that row, not [{string.Join(",", shape)}]");
        var a = Inner.Create(dtype, shape, key);
        for (int j = 0; j < shape[1]; j++) a.SetDouble(Row * shape[1] + j, 0);
        return a;
    }

    public override string ToString() => $"zero_row({Inner},{Row})";
}
