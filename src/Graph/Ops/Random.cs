namespace GraphNet;

/// <summary>What a <see cref="RandomOp"/> draws.</summary>
public enum RandomKind
{
    /// <summary>Uniform in [A, B) (torch.rand scaled).</summary>
    Uniform,
    /// <summary>Normal with mean A and standard deviation B (torch.randn scaled).</summary>
    Normal,
    /// <summary>1 with the probability its input holds, else 0 (torch.bernoulli).</summary>
    Bernoulli,
}

/// <summary>
/// Random values drawn in the graph: a pure function of (graph seed, op seed, run counter, flat
/// index), from the counter-based generator dropout and the initializers use, so every backend and
/// eager mode draw the same values, and each run new ones. The shape comes from the one input
/// (the tensor whose shape a <c>*_like</c> op copies, or Bernoulli's probabilities), or from
/// <see cref="Shape"/> when there is none. No gradient flows through it (the values are inputs of
/// the step; a reparameterized sample is mean + std·ε with ε from here).
/// </summary>
public sealed record RandomOp(RandomKind Kind, int Seed, double A, double B, DType DType, int[] Shape) : Op
{
    public override string Name => "random_" + Kind.ToString().ToLowerInvariant();

    public override IEnumerable<(string, object?)> Attributes() =>
        new (string, object?)[] { ("seed", Seed) }
            .Concat(Kind == RandomKind.Bernoulli ? [] : new (string, object?)[] { (Kind == RandomKind.Uniform ? "low" : "mean", A),
                (Kind == RandomKind.Uniform ? "high" : "std", B) })
            .Concat(Shape.Length > 0 ? [("shape", (object?)Shape)] : []);

    /// <summary>Each run draws anew: never folded into a constant.</summary>
    public override bool IsStateful => true;

    public override TensorType[] InferTypes(TensorType[] x)
    {
        if (x.Length > 1) throw Error($"{Name}: takes at most one input (the shape to copy), got {x.Length}");
        if (!DType.IsFloat()) throw Error($"{Name}: draws floats (f32 or f64), not {DType.ShortName()}");
        if (Kind == RandomKind.Bernoulli)
        {
            if (x.Length != 1 || !x[0].DType.IsFloat()) throw Error("random_bernoulli: takes one float tensor of probabilities");
            return [x[0]];
        }
        if (Kind == RandomKind.Uniform && !(A < B)) throw Error($"random_uniform: low {A} must be below high {B}");
        if (Kind == RandomKind.Normal && !(B >= 0)) throw Error($"random_normal: std {B} must not be negative");
        return [x.Length == 1 ? new TensorType(DType, x[0].Shape) : new TensorType(DType, new Shape(Shape))];
    }

    public override Tensor?[] Gradient(GradContext g) => g.X.Count == 0 ? [] : [null];

    /// <summary>The key of this op's draw in a given run (a stream apart from dropout's masks).</summary>
    public ulong Key(int graphSeed, long runCounter) =>
        CounterRng.Key((((ulong)(uint)graphSeed << 32) | (uint)Seed) ^ 0x7A3D_1C55_0B9E_42F1UL, (ulong)runCounter);

    /// <summary>Element i of the draw (for Bernoulli, given its probability p).</summary>
    public double Draw(ulong key, long i, double p = 0) => Kind switch
    {
        RandomKind.Uniform => A + (B - A) * CounterRng.Uniform(key, (ulong)i),
        RandomKind.Normal => A + B * CounterRng.Normal(key, (ulong)i),
        _ => CounterRng.Uniform(key, (ulong)i) < p ? 1 : 0,
    };

    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x)
    {
        var shape = x.Length == 1 ? x[0].Shape : Shape;
        var y = NDArray.Zeros(Kind == RandomKind.Bernoulli ? x[0].DType : DType, shape);
        ulong key = Key(ctx.GraphSeed, ctx.RunCounter);
        for (int i = 0; i < y.Size; i++) y.SetDouble(i, Draw(key, i, Kind == RandomKind.Bernoulli ? x[0].GetDouble(i) : 0));
        return [y];
    }
}
