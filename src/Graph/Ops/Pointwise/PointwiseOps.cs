using System.Numerics;

namespace GraphNet;

/// <summary>y = f(x) elementwise, for an entry f of the pointwise table.</summary>
public sealed record UnaryOp(UnaryFn Fn, double Param = 0) : Op
{
    public override string Name => Fn.Name;
    public override IEnumerable<(string, object?)> Attributes() => Fn.ParamName is { } p ? [(p, Param)] : [];

    public override TensorType[] InferTypes(TensorType[] x)
    {
        ExpectInputs(Name, x, 1); ExpectFloat(Name, x[0]);
        return [x[0]];
    }

    public override Tensor?[] Gradient(GradContext g) => [Fn.Grad(g.X[0], g.Y, g.Dy, Param)];

    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x) => [x[0].DType == DType.Float32 ? Eval<float>(x[0]) : Eval<double>(x[0])];

    private NDArray Eval<T>(NDArray x) where T : IFloatingPointIeee754<T>
    {
        var y = NDArray.Zeros(x.DType, x.Shape);
        Fn.Map<T>(x.As<T>(), y.As<T>(), T.CreateChecked(Param));
        return y;
    }
}

/// <summary>y = f(a, b) elementwise with NumPy broadcasting.</summary>
public sealed record BinaryOp(BinaryFn Fn, double Param = 0) : Op
{
    public override string Name => Fn.Name;
    public override IEnumerable<(string, object?)> Attributes() => Fn.ParamName is { } p ? [(p, Param)] : [];

    public override TensorType[] InferTypes(TensorType[] x)
    {
        ExpectInputs(Name, x, 2); ExpectFloat(Name, x[0]); ExpectSameDType(Name, x[0], x[1]);
        return [new TensorType(x[0].DType, Shape.Broadcast(x[0].Shape, x[1].Shape, Name))];
    }

    public override Tensor?[] Gradient(GradContext g)
    {
        var (da, db) = Fn.Grad(new BinaryGradient(g.X[0], g.X[1], g.Y, g.Dy, Param, g.Needs(0), g.Needs(1)));
        return [da is null || !g.Needs(0) ? null : F.SumTo(da, g.X[0].Shape), db is null || !g.Needs(1) ? null : F.SumTo(db, g.X[1].Shape)];
    }

    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x) => [x[0].DType == DType.Float32 ? Eval<float>(x[0], x[1]) : Eval<double>(x[0], x[1])];

    private NDArray Eval<T>(NDArray a, NDArray b) where T : IFloatingPointIeee754<T>
    {
        var shape = BroadcastPlan.OutShape(Name, a.Shape, b.Shape);
        var y = NDArray.Zeros(a.DType, shape);
        Fn.Map(a.As<T>(), a.Shape, b.As<T>(), b.Shape, y.As<T>(), shape, T.CreateChecked(Param));
        return y;
    }
}

public enum CompareKind { Equal, NotEqual, Less, LessEqual, Greater, GreaterEqual }

/// <summary>Elementwise comparison with broadcasting; the result is bool.</summary>
public sealed record CompareOp(CompareKind Kind) : Op
{
    public override string Name => Kind switch
    {
        CompareKind.Equal => "equal", CompareKind.NotEqual => "not_equal", CompareKind.Less => "less",
        CompareKind.LessEqual => "less_equal", CompareKind.Greater => "greater", _ => "greater_equal",
    };

    public override TensorType[] InferTypes(TensorType[] x)
    {
        ExpectInputs(Name, x, 2); ExpectSameDType(Name, x[0], x[1]);
        return [new TensorType(DType.Bool, Shape.Broadcast(x[0].Shape, x[1].Shape, Name))];
    }

    public override Tensor?[] Gradient(GradContext g) => [null, null];

    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x)
    {
        var shape = BroadcastPlan.OutShape(Name, x[0].Shape, x[1].Shape);
        var y = NDArray.Zeros(DType.Bool, shape);
        var v = new Visitor { A = x[0], B = x[1], Y = y.As<bool>(), Kind = Kind };
        new BroadcastPlan(shape, x[0].Shape, x[1].Shape).ForEachRun(ref v);
        return [y];
    }

    private struct Visitor : IRunVisitor
    {
        public NDArray A, B; public bool[] Y; public CompareKind Kind;
        public void Run(int o, ReadOnlySpan<int> offs, ReadOnlySpan<int> s, int n)
        {
            for (int j = 0; j < n; j++)
            {
                double a = A.GetDouble(offs[0] + j * s[0]), b = B.GetDouble(offs[1] + j * s[1]);
                Y[o + j] = Kind switch
                {
                    CompareKind.Equal => a == b, CompareKind.NotEqual => a != b, CompareKind.Less => a < b,
                    CompareKind.LessEqual => a <= b, CompareKind.Greater => a > b, _ => a >= b,
                };
            }
        }
    }
}

/// <summary>where(cond, a, b): a where cond is true, else b, with broadcasting of all three.</summary>
public sealed record WhereOp : Op
{
    public override string Name => "where";

    public override TensorType[] InferTypes(TensorType[] x)
    {
        ExpectInputs(Name, x, 3);
        if (x[0].DType != DType.Bool) throw Error($"where: condition must be bool, got {x[0].DType.ShortName()}");
        ExpectSameDType(Name, x[1], x[2]);
        var s = Shape.Broadcast(Shape.Broadcast(x[0].Shape, x[1].Shape, Name), x[2].Shape, Name);
        return [new TensorType(x[1].DType, s)];
    }

    public override Tensor?[] Gradient(GradContext g)
    {
        var z = F.ZerosLike(g.Dy);
        return [null,
            g.Needs(1) ? F.SumTo(F.Where(g.X[0], g.Dy, z), g.X[1].Shape) : null,
            g.Needs(2) ? F.SumTo(F.Where(g.X[0], z, g.Dy), g.X[2].Shape) : null];
    }

    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x)
    {
        var shape = BroadcastPlan.OutShape(Name, x[0].Shape, x[1].Shape, x[2].Shape);
        var y = NDArray.Zeros(x[1].DType, shape);
        var v = new Visitor { C = x[0].As<bool>(), A = x[1].Data, B = x[2].Data, Y = y.Data };
        new BroadcastPlan(shape, x[0].Shape, x[1].Shape, x[2].Shape).ForEachRun(ref v);
        return [y];
    }

    private struct Visitor : IRunVisitor
    {
        public bool[] C; public Array A, B, Y;
        public void Run(int o, ReadOnlySpan<int> offs, ReadOnlySpan<int> s, int n)
        {
            for (int j = 0; j < n; j++)
                Array.Copy(C[offs[0] + j * s[0]] ? A : B, C[offs[0] + j * s[0]] ? offs[1] + j * s[1] : offs[2] + j * s[2], Y, o + j, 1);
        }
    }
}

/// <summary>Converts between element types (bool becomes 0/1).</summary>
public sealed record CastOp(DType To) : Op
{
    public override string Name => "cast";
    public override IEnumerable<(string, object?)> Attributes() => [("to", To.ShortName())];

    public override TensorType[] InferTypes(TensorType[] x) { ExpectInputs(Name, x, 1); return [x[0] with { DType = To }]; }

    public override Tensor?[] Gradient(GradContext g) =>
        [g.X[0].DType.IsFloat() && To.IsFloat() ? F.Cast(g.Dy, g.X[0].DType) : null];

    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x) => [Convert(x[0], To)];

    public static NDArray Convert(NDArray x, DType to)
    {
        if (x.DType == to) return x;
        var y = NDArray.Zeros(to, x.Shape);
        switch (y.Data)
        {
            case float[] f: for (int i = 0; i < f.Length; i++) f[i] = (float)x.GetDouble(i); break;
            case double[] d: for (int i = 0; i < d.Length; i++) d[i] = x.GetDouble(i); break;
            case int[] n: for (int i = 0; i < n.Length; i++) n[i] = (int)x.GetDouble(i); break;
            case long[] l: for (int i = 0; i < l.Length; i++) l[i] = (long)x.GetDouble(i); break;
            case bool[] b: for (int i = 0; i < b.Length; i++) b[i] = x.GetDouble(i) != 0; break;
        }
        return y;
    }
}
