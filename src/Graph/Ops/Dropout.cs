using System.Numerics;

namespace GraphNet;

/// <summary>
/// Inverted dropout: in training, zeroes each element with probability Rate and scales the rest
/// by 1/(1-Rate). The mask is a pure function of (graph seed, op seed, run counter, position), so
/// its gradient (the same op applied to dy) and every backend draw the same mask.
/// Inputs: x and the bool training switch.
/// </summary>
public sealed record DropoutOp(double Rate, int Seed) : Op
{
    public override string Name => "dropout";
    public override IEnumerable<(string, object?)> Attributes() => [("rate", Rate), ("seed", Seed)];

    public override TensorType[] InferTypes(TensorType[] x)
    {
        ExpectInputs(Name, x, 2); ExpectFloat(Name, x[0]);
        if (x[1].DType != DType.Bool || x[1].Shape.Rank != 0) throw Error($"dropout: the training switch must be a bool scalar, got {x[1]}");
        if (Rate < 0 || Rate >= 1) throw Error($"dropout: rate must be in [0, 1), got {Rate}");
        return [x[0]];
    }

    public override Tensor?[] Gradient(GradContext g) => [g.Graph.Add1(this, [g.Dy, g.X[1]]), null];

    /// <summary>The key of this op's mask in a given run.</summary>
    public ulong MaskKey(int graphSeed, long runCounter) => Key(graphSeed, Seed, runCounter);

    public static ulong Key(int graphSeed, int seed, long runCounter) =>
        CounterRng.Key(((ulong)(uint)graphSeed << 32) | (uint)seed, (ulong)runCounter);

    /// <summary>
    /// The mask's factor at flat index i: <paramref name="scale"/> where kept, 0 where dropped.
    /// Every backend's scalar path calls this (the vector handlers draw the same bits lane by lane).
    /// </summary>
    public static T Factor<T>(ulong key, long i, float rate, T scale) where T : IFloatingPointIeee754<T> =>
        CounterRng.Uniform(key, (ulong)i) >= rate ? scale : T.Zero;

    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x)
    {
        if (!x[1].As<bool>()[0] || Rate == 0) return [x[0]];
        return [x[0].DType == DType.Float32 ? Eval<float>(x[0], ctx) : Eval<double>(x[0], ctx)];
    }

    private NDArray Eval<T>(NDArray x, EvalContext ctx) where T : IFloatingPointIeee754<T>
    {
        var y = NDArray.Zeros(x.DType, x.Shape);
        T[] X = x.As<T>(), Y = y.As<T>();
        ulong key = MaskKey(ctx.GraphSeed, ctx.RunCounter);
        T scale = T.One / (T.One - T.CreateChecked(Rate));
        float rate = (float)Rate;
        // x times the mask's factor, as PyTorch: a dropped NaN stays NaN.
        for (int i = 0; i < X.Length; i++) Y[i] = X[i] * Factor(key, i, rate, scale);
        return y;
    }
}
