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

/// <summary>PyTorch's fan_in and fan_out of a weight: dims 1 and 0 times the receptive field (dims 2...).</summary>
internal static class Fans
{
    public static (int In, int Out) Of(int[] shape)
    {
        if (shape.Length < 2) throw new GraphException($"fan in and fan out need a weight of at least 2 dimensions, not [{string.Join(",", shape)}]");
        int receptive = shape.Skip(2).Aggregate(1, (a, b) => a * b);
        return (shape[1] * receptive, shape[0] * receptive);
    }

    /// <summary>torch.nn.init.calculate_gain.</summary>
    public static double Gain(string nonlinearity, double param = 0.01) => nonlinearity switch
    {
        "linear" or "conv1d" or "conv2d" or "conv3d" or "conv_transpose1d" or "conv_transpose2d" or "sigmoid" => 1,
        "tanh" => 5.0 / 3,
        "relu" => Math.Sqrt(2),
        "leaky_relu" => Math.Sqrt(2 / (1 + param * param)),
        "selu" => 3.0 / 4,
        _ => throw new GraphException($"calculate_gain: unknown nonlinearity '{nonlinearity}'"),
    };
}

/// <summary>Glorot/Xavier: U(±gain·√(6/(fan_in + fan_out))) or N(0, gain·√(2/(fan_in + fan_out))).</summary>
public sealed record XavierInit(bool Gaussian, double Gain = 1) : Initializer
{
    public override NDArray Create(DType dtype, int[] shape, ulong key)
    {
        var (fanIn, fanOut) = Fans.Of(shape);
        double std = Gain * Math.Sqrt(2.0 / (fanIn + fanOut));
        return Gaussian ? new NormalInit(0, std).Create(dtype, shape, key)
            : new UniformInit(-Math.Sqrt(3) * std, Math.Sqrt(3) * std).Create(dtype, shape, key);
    }
}

/// <summary>He/Kaiming: std = gain/√fan with fan_in or fan_out; uniform within ±√3·std or normal.</summary>
public sealed record KaimingInit(bool Gaussian, double A = 0, string Mode = "fan_in", string Nonlinearity = "leaky_relu") : Initializer
{
    public override NDArray Create(DType dtype, int[] shape, ulong key)
    {
        var (fanIn, fanOut) = Fans.Of(shape);
        int fan = Mode switch
        {
            "fan_in" => fanIn, "fan_out" => fanOut,
            _ => throw new GraphException($"kaiming: mode must be 'fan_in' or 'fan_out', not '{Mode}'"),
        };
        double std = Fans.Gain(Nonlinearity, A) / Math.Sqrt(fan);
        return Gaussian ? new NormalInit(0, std).Create(dtype, shape, key)
            : new UniformInit(-Math.Sqrt(3) * std, Math.Sqrt(3) * std).Create(dtype, shape, key);
    }
}

/// <summary>
/// A (semi-)orthogonal matrix times the gain, as torch.nn.init.orthogonal_: the weight seen as
/// [dim 0, the rest]; orthonormal rows or columns (whichever are fewer) from a normal draw.
/// </summary>
public sealed record OrthogonalInit(double Gain = 1) : Initializer
{
    public override NDArray Create(DType dtype, int[] shape, ulong key)
    {
        if (shape.Length < 2) throw new GraphException($"orthogonal: the weight needs at least 2 dimensions, not [{string.Join(",", shape)}]");
        int rows = shape[0], cols = shape.Skip(1).Aggregate(1, (a, b) => a * b);
        int tall = Math.Max(rows, cols), narrow = Math.Min(rows, cols);
        // Columns of a tall × narrow normal matrix, made orthonormal by modified Gram-Schmidt.
        var q = new double[narrow][];
        for (int j = 0; j < narrow; j++)
        {
            var v = Enumerable.Range(0, tall).Select(i => CounterRng.Normal(key, (ulong)(j * tall + i))).ToArray();
            for (int k = 0; k < j; k++)
            {
                double dot = 0;
                for (int i = 0; i < tall; i++) dot += q[k][i] * v[i];
                for (int i = 0; i < tall; i++) v[i] -= dot * q[k][i];
            }
            double norm = Math.Sqrt(v.Sum(x => x * x));
            q[j] = v.Select(x => x / norm).ToArray();
        }
        // rows ≥ cols: W[r, c] = q[c][r]; rows < cols: W[r, c] = q[r][c] (orthonormal rows).
        return Fill(dtype, shape, i => Gain * (rows >= cols ? q[i % cols][i / cols] : q[i / cols][i % cols]));
    }
}
