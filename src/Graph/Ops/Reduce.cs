using System.Numerics;

namespace GraphNet;

public enum ReduceKind { Sum, Mean, Max, Min }

/// <summary>Reduction over axes (all axes when empty), optionally keeping reduced axes as 1.</summary>
public sealed record ReduceOp(ReduceKind Kind, int[] Axes, bool KeepDims) : Op
{
    public override string Name => "reduce_" + Kind.ToString().ToLowerInvariant();
    public override IEnumerable<(string, object?)> Attributes() => [("axes", Axes), ("keepdims", KeepDims)];

    /// <summary>Sorted, non-negative axes for an input of the given rank.</summary>
    public int[] NormalizedAxes(int rank) =>
        Axes.Length == 0 ? Enumerable.Range(0, rank).ToArray() : Axes.Select(a => a < 0 ? a + rank : a).Distinct().Order().ToArray();

    public static Shape KeptShape(Shape s, int[] axes) => new(s.Dims.Select((d, i) => axes.Contains(i) ? 1 : d).ToArray());

    public override TensorType[] InferTypes(TensorType[] x)
    {
        ExpectInputs(Name, x, 1); ExpectFloat(Name, x[0]);
        foreach (var a in Axes) x[0].Shape.Axis(a, Name);
        var axes = NormalizedAxes(x[0].Shape.Rank);
        var dims = x[0].Shape.Dims.Select((d, i) => (d, i)).Where(p => !axes.Contains(p.i) || KeepDims).Select(p => axes.Contains(p.i) ? 1 : p.d);
        return [new TensorType(x[0].DType, new Shape(dims.ToArray()))];
    }

    public override Tensor?[] Gradient(GradContext g)
    {
        var x = g.X[0];
        var axes = NormalizedAxes(x.Rank);
        var dyKept = F.Reshape(g.Dy, F.ReshapeTarget(KeptShape(x.Shape, axes)));
        switch (Kind)
        {
            case ReduceKind.Sum: return [F.BroadcastLike(dyKept, x)];
            case ReduceKind.Mean: return [F.BroadcastLike(dyKept, x) / F.CountOf(x, axes)];
            default:
                // The gradient goes to the extreme elements, shared equally between ties.
                var yKept = F.Reshape(g.Y, F.ReshapeTarget(KeptShape(x.Shape, axes)));
                var mask = F.Cast(F.Equal(x, F.BroadcastLike(yKept, x)), x.DType);
                var ties = F.Sum(mask, axes, keepDims: true);
                return [mask * F.BroadcastLike(dyKept / ties, x)];
        }
    }

    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x) =>
        [x[0].DType == DType.Float32 ? Eval<float>(x[0]) : Eval<double>(x[0])];

    private NDArray Eval<T>(NDArray x) where T : IFloatingPointIeee754<T>
    {
        var axes = NormalizedAxes(x.Rank);
        var kept = x.Shape.Select((d, i) => axes.Contains(i) ? 1 : d).ToArray();
        var outShape = KeepDims ? kept : x.Shape.Where((_, i) => !axes.Contains(i)).ToArray();
        var y = NDArray.Zeros(x.DType, outShape);
        var acc = y.As<T>();
        T init = Kind switch { ReduceKind.Max => T.NegativeInfinity, ReduceKind.Min => T.PositiveInfinity, _ => T.Zero };
        Array.Fill(acc, init);
        var v = new Visitor<T> { X = x.As<T>(), Acc = acc, Kind = Kind };
        new BroadcastPlan(x.Shape, kept, x.Shape).ForEachRun(ref v);
        if (Kind == ReduceKind.Mean)
        {
            long count = axes.Aggregate(1L, (c, a) => c * x.Shape[a]);
            T inv = T.One / T.CreateChecked(count);
            for (int i = 0; i < acc.Length; i++) acc[i] *= inv;
        }
        return y;
    }

    private struct Visitor<T> : IRunVisitor where T : IFloatingPointIeee754<T>
    {
        public T[] X, Acc; public ReduceKind Kind;
        public void Run(int o, ReadOnlySpan<int> offs, ReadOnlySpan<int> s, int n)
        {
            int a = offs[0], sa = s[0];
            switch (Kind)
            {
                case ReduceKind.Max: for (int j = 0; j < n; j++, a += sa) { if (X[o + j] > Acc[a] || T.IsNaN(X[o + j])) Acc[a] = X[o + j]; } break;
                case ReduceKind.Min: for (int j = 0; j < n; j++, a += sa) { if (X[o + j] < Acc[a] || T.IsNaN(X[o + j])) Acc[a] = X[o + j]; } break;
                default:
                    if (sa == 0) { T sum = T.Zero; for (int j = 0; j < n; j++) sum += X[o + j]; Acc[a] += sum; }
                    else for (int j = 0; j < n; j++, a += sa) Acc[a] += X[o + j];
                    break;
            }
        }
    }
}

/// <summary>Index of the largest element along an axis, as int64.</summary>
public sealed record ArgMaxOp(int Axis) : Op
{
    public override string Name => "argmax";
    public override IEnumerable<(string, object?)> Attributes() => [("axis", Axis)];

    public override TensorType[] InferTypes(TensorType[] x)
    {
        ExpectInputs(Name, x, 1);
        int a = x[0].Shape.Axis(Axis, Name);
        return [new TensorType(DType.Int64, new Shape(x[0].Shape.Dims.Where((_, i) => i != a).ToArray()))];
    }

    public override Tensor?[] Gradient(GradContext g) => [null];

    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x)
    {
        var s = x[0].Shape; int a = Axis < 0 ? Axis + s.Length : Axis;
        int outer = s.Take(a).Aggregate(1, (p, d) => p * d), n = s[a], inner = s.Skip(a + 1).Aggregate(1, (p, d) => p * d);
        var y = NDArray.Zeros(DType.Int64, s.Where((_, i) => i != a).ToArray());
        var r = y.As<long>();
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int best = 0; double bv = double.NegativeInfinity;
                for (int k = 0; k < n; k++) { double v = x[0].GetDouble((o * n + k) * inner + i); if (v > bv) { bv = v; best = k; } }
                r[o * inner + i] = best;
            }
        return [y];
    }
}

/// <summary>softmax or log_softmax along one axis (numerically stable).</summary>
public sealed record SoftmaxOp(int Axis, bool Log) : Op
{
    public override string Name => Log ? "log_softmax" : "softmax";
    public override IEnumerable<(string, object?)> Attributes() => [("axis", Axis)];

    public override TensorType[] InferTypes(TensorType[] x)
    {
        ExpectInputs(Name, x, 1); ExpectFloat(Name, x[0]); x[0].Shape.Axis(Axis, Name);
        return [x[0]];
    }

    public override Tensor?[] Gradient(GradContext g)
    {
        // softmax: dx = y * (dy - sum(dy * y)); log_softmax: dx = dy - exp(y) * sum(dy).
        var y = g.Y; var dy = g.Dy;
        return Log ? [dy - F.Exp(y) * F.Sum(dy, [Axis], keepDims: true)]
                   : [y * (dy - F.Sum(dy * y, [Axis], keepDims: true))];
    }

    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x) =>
        [x[0].DType == DType.Float32 ? Eval<float>(x[0]) : Eval<double>(x[0])];

    private NDArray Eval<T>(NDArray x) where T : IFloatingPointIeee754<T>
    {
        var s = x.Shape; int a = Axis < 0 ? Axis + s.Length : Axis;
        int outer = s.Take(a).Aggregate(1, (p, d) => p * d), n = s[a], inner = s.Skip(a + 1).Aggregate(1, (p, d) => p * d);
        var y = NDArray.Zeros(x.DType, s);
        T[] xs = x.As<T>(), ys = y.As<T>();
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int b = o * n * inner + i;
                T max = T.NegativeInfinity;
                for (int k = 0; k < n; k++) max = T.Max(max, xs[b + k * inner]);
                T sum = T.Zero;
                for (int k = 0; k < n; k++) sum += T.Exp(xs[b + k * inner] - max);
                T logSum = T.Log(sum);
                for (int k = 0; k < n; k++)
                {
                    T z = xs[b + k * inner] - max;
                    ys[b + k * inner] = Log ? z - logSum : T.Exp(z) / sum;
                }
            }
        return y;
    }
}

/// <summary>Broadcasts the first input to the run-time shape of the second (whose values are not read).</summary>
public sealed record BroadcastLikeOp : Op
{
    public override string Name => "broadcast_like";

    public override TensorType[] InferTypes(TensorType[] x)
    {
        ExpectInputs(Name, x, 2);
        var s = Shape.Broadcast(x[0].Shape, x[1].Shape, Name);
        if (s != x[1].Shape) throw Error($"broadcast_like: {x[0].Shape} does not broadcast to {x[1].Shape}");
        return [new TensorType(x[0].DType, x[1].Shape)];
    }

    public override Tensor?[] Gradient(GradContext g) => [F.SumTo(g.Dy, g.X[0].Shape), null];

    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x)
    {
        var y = NDArray.Zeros(x[0].DType, x[1].Shape);
        var v = new Visitor { X = x[0].Data, Y = y.Data };
        new BroadcastPlan(x[1].Shape, x[0].Shape).ForEachRun(ref v);
        return [y];
    }

    private struct Visitor : IRunVisitor
    {
        public Array X, Y;
        public void Run(int o, ReadOnlySpan<int> offs, ReadOnlySpan<int> s, int n)
        {
            if (s[0] == 1) Array.Copy(X, offs[0], Y, o, n);
            else for (int j = 0; j < n; j++) Array.Copy(X, offs[0] + j * s[0], Y, o + j, 1);
        }
    }
}

/// <summary>The number of elements of x over the given axes, as a scalar of x's dtype (used by mean's gradient).</summary>
public sealed record CountOfOp(int[] Axes) : Op
{
    public override string Name => "count_of";
    public override IEnumerable<(string, object?)> Attributes() => [("axes", Axes)];
    public override TensorType[] InferTypes(TensorType[] x) { ExpectInputs(Name, x, 1); return [new TensorType(x[0].DType, Shape.Scalar)]; }
    public override Tensor?[] Gradient(GradContext g) => [null];
    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x) =>
        [NDArray.Scalar(x[0].DType, Axes.Aggregate(1L, (c, a) => c * x[0].Shape[a]))];
}
