namespace GraphNet;

/// <summary>Permutes axes.</summary>
public sealed record TransposeOp(int[] Perm) : Op
{
    public override string Name => "transpose";
    public override IEnumerable<(string, object?)> Attributes() => [("perm", Perm)];

    public override TensorType[] InferTypes(TensorType[] x)
    {
        ExpectInputs(Name, x, 1);
        if (Perm.Length != x[0].Shape.Rank || Perm.Order().Where((p, i) => p != i).Any())
            throw Error($"transpose: perm [{string.Join(",", Perm)}] is not a permutation of the {x[0].Shape.Rank} axes of {x[0].Shape}");
        return [x[0] with { Shape = new Shape(Perm.Select(p => x[0].Shape[p]).ToArray()) }];
    }

    public override Tensor?[] Gradient(GradContext g)
    {
        var inv = new int[Perm.Length];
        for (int i = 0; i < Perm.Length; i++) inv[Perm[i]] = i;
        return [F.Transpose(g.Dy, inv)];
    }

    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x) => [Apply(x[0], Perm)];

    public static NDArray Apply(NDArray x, int[] perm)
    {
        int r = x.Rank;
        var outShape = perm.Select(p => x.Shape[p]).ToArray();
        var y = NDArray.Zeros(x.DType, outShape);
        var inStrides = new int[r];
        for (int d = r - 1, s = 1; d >= 0; d--) { inStrides[d] = s; s *= x.Shape[d]; }
        var idx = new int[r];
        int off = 0;
        for (int o = 0; o < y.Size; o++)
        {
            Array.Copy(x.Data, off, y.Data, o, 1);
            for (int d = r - 1; d >= 0; d--)
            {
                idx[d]++; off += inStrides[perm[d]];
                if (idx[d] < outShape[d]) break;
                off -= inStrides[perm[d]] * outShape[d]; idx[d] = 0;
            }
        }
        return y;
    }
}

/// <summary>
/// Reshape; one target dimension may be -1, inferred as in PyTorch's <c>view</c>. With a symbolic
/// input it is inferred as N or a multiple k·N: <c>[T,N,V]</c> to <c>[-1,V]</c> is <c>[T·N,V]</c>.
/// </summary>
public sealed record ReshapeOp(int[] Target) : Op
{
    public override string Name => "reshape";
    public override IEnumerable<(string, object?)> Attributes() => [("shape", Target)];

    public override TensorType[] InferTypes(TensorType[] x)
    {
        ExpectInputs(Name, x, 1);
        var s = x[0].Shape;
        int infer = Array.IndexOf(Target, -1);
        if (Target.Count(d => d == -1) > 1 || Target.Any(d => d < -1))
            throw Error($"reshape: target [{string.Join(",", Target)}] may contain at most one -1 and no other negative size");
        long known = Target.Where(d => d != -1).Aggregate(1L, (p, d) => p * d);
        if (infer < 0)
        {
            if (!s.IsSymbolic && s.StaticSize != known)
                throw Error($"reshape: cannot reshape {s} ({s.StaticSize} elements) to [{string.Join(",", Target)}] ({known} elements)");
            return [x[0] with { Shape = new Shape(Target) }];
        }
        var dims = (int[])Target.Clone();
        if (s.IsSymbolic)
        {
            if (known == 0 || s.StaticSize % known != 0)
                throw Error($"reshape: {s} has the batch N in it, so the -1 in [{string.Join(",", Target)}] must take N or a " +
                    $"multiple of N: the other sizes multiply to {known}, which does not divide {s.StaticSize} (the size over N)");
            dims[infer] = Shape.BatchTimes((int)(s.StaticSize / known));
        }
        else
        {
            if (known == 0 || s.StaticSize % known != 0)
                throw Error($"reshape: cannot reshape {s} ({s.StaticSize} elements) to [{string.Join(",", Target)}]");
            dims[infer] = (int)(s.StaticSize / known);
        }
        return [x[0] with { Shape = new Shape(dims) }];
    }

    public override Tensor?[] Gradient(GradContext g) => [F.Reshape(g.Dy, F.ReshapeTarget(g.X[0].Shape))];

    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x) => [x[0].Reshape(Resolve(x[0].Size, Target))];

    public static int[] Resolve(int size, int[] target)
    {
        var dims = (int[])target.Clone();
        int infer = Array.IndexOf(dims, -1);
        long known = dims.Where(d => d != -1).Aggregate(1L, (p, d) => p * d);
        if (infer >= 0) dims[infer] = known == 0 ? 0 : (int)(size / known);
        if (NDArray.SizeOf(dims) != size)
            throw new GraphException($"reshape: {size} elements do not fit shape [{string.Join(",", target)}]");
        return dims;
    }
}

/// <summary>Joins tensors along an axis.</summary>
public sealed record ConcatOp(int Axis) : Op
{
    public override string Name => "concat";
    public override IEnumerable<(string, object?)> Attributes() => [("axis", Axis)];

    public override TensorType[] InferTypes(TensorType[] x)
    {
        if (x.Length == 0) throw Error("concat needs at least one input");
        int a = x[0].Shape.Axis(Axis, Name);
        int total = 0;
        foreach (var t in x)
        {
            ExpectSameDType(Name, x[0], t);
            if (t.Shape.Rank != x[0].Shape.Rank || Enumerable.Range(0, t.Shape.Rank).Any(i => i != a && t.Shape[i] != x[0].Shape[i]))
                throw Error($"concat along axis {Axis}: shapes {string.Join(", ", x.Select(y => y.Shape))} differ off that axis");
            if (t.Shape[a] < 0) throw Error("concat along the batch dimension is not supported");
            total += t.Shape[a];
        }
        return [x[0] with { Shape = x[0].Shape.With(a, total) }];
    }

    public override Tensor?[] Gradient(GradContext g)
    {
        int a = g.X[0].Shape.Axis(Axis, Name), start = 0;
        var grads = new Tensor?[g.X.Count];
        for (int i = 0; i < g.X.Count; i++)
        {
            int len = g.X[i].Shape[a];
            grads[i] = g.Needs(i) ? F.Slice(g.Dy, a, start, len) : null;
            start += len;
        }
        return grads;
    }

    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x)
    {
        int a = Axis < 0 ? Axis + x[0].Rank : Axis;
        var shape = (int[])x[0].Shape.Clone();
        shape[a] = x.Sum(t => t.Shape[a]);
        var y = NDArray.Zeros(x[0].DType, shape);
        int outer = shape.Take(a).Aggregate(1, (p, d) => p * d), inner = shape.Skip(a + 1).Aggregate(1, (p, d) => p * d);
        int rowOut = shape[a] * inner, pos = 0;
        foreach (var t in x)
        {
            int row = t.Shape[a] * inner;
            for (int o = 0; o < outer; o++) Array.Copy(t.Data, o * row, y.Data, o * rowOut + pos, row);
            pos += row;
        }
        return [y];
    }
}

/// <summary>x[..., start:start+length, ...] along one axis.</summary>
public sealed record SliceOp(int Axis, int Start, int Length) : Op
{
    public override string Name => "slice";
    public override IEnumerable<(string, object?)> Attributes() => [("axis", Axis), ("start", Start), ("length", Length)];

    public override TensorType[] InferTypes(TensorType[] x)
    {
        ExpectInputs(Name, x, 1);
        int a = x[0].Shape.Axis(Axis, Name), d = x[0].Shape[a];
        if (d < 0) throw Error("slice along the batch dimension is not supported");
        if (Start < 0 || Length < 0 || Start + Length > d) throw Error($"slice [{Start}, {Start + Length}) is out of range for axis {Axis} of size {d} in {x[0].Shape}");
        return [x[0] with { Shape = x[0].Shape.With(a, Length) }];
    }

    public override Tensor?[] Gradient(GradContext g)
    {
        int a = g.X[0].Shape.Axis(Axis, Name);
        var pads = new int[g.X[0].Rank * 2];
        pads[2 * a] = Start; pads[2 * a + 1] = g.X[0].Shape[a] - Start - Length;
        return [F.Pad(g.Dy, pads)];
    }

    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x)
    {
        var s = x[0].Shape; int a = Axis < 0 ? Axis + s.Length : Axis;
        var shape = (int[])s.Clone(); shape[a] = Length;
        var y = NDArray.Zeros(x[0].DType, shape);
        int outer = s.Take(a).Aggregate(1, (p, d) => p * d), inner = s.Skip(a + 1).Aggregate(1, (p, d) => p * d);
        for (int o = 0; o < outer; o++) Array.Copy(x[0].Data, (o * s[a] + Start) * inner, y.Data, o * Length * inner, Length * inner);
        return [y];
    }
}

/// <summary>Constant padding: Pads holds (before, after) for every axis.</summary>
public sealed record PadOp(int[] Pads, double Value = 0) : Op
{
    public override string Name => "pad";
    public override IEnumerable<(string, object?)> Attributes() => [("pads", Pads), ("value", Value)];

    public override TensorType[] InferTypes(TensorType[] x)
    {
        ExpectInputs(Name, x, 1);
        var s = x[0].Shape;
        if (Pads.Length != 2 * s.Rank || Pads.Any(p => p < 0)) throw Error($"pad: need 2 non-negative pads per axis of {s}, got [{string.Join(",", Pads)}]");
        int Padded(int d, int i) => Pads[2 * i] + Pads[2 * i + 1] is var added && d < 0
            ? (added == 0 ? d : throw Error("pad: cannot pad the batch dimension"))
            : d + added;
        var dims = s.Dims.Select(Padded);
        return [x[0] with { Shape = new Shape(dims.ToArray()) }];
    }

    public override Tensor?[] Gradient(GradContext g)
    {
        var dx = g.Dy;
        for (int a = 0; a < g.X[0].Rank; a++)
            if (Pads[2 * a] + Pads[2 * a + 1] > 0) dx = F.Slice(dx, a, Pads[2 * a], g.X[0].Shape[a]);
        return [dx];
    }

    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x)
    {
        var s = x[0].Shape; int r = s.Length;
        var shape = s.Select((d, i) => d + Pads[2 * i] + Pads[2 * i + 1]).ToArray();
        var y = NDArray.Zeros(x[0].DType, shape);
        if (Value != 0) { var fill = NDArray.Scalar(x[0].DType, Value); for (int i = 0; i < y.Size; i++) Array.Copy(fill.Data, 0, y.Data, i, 1); }
        int inner = s[r - 1], rows = x[0].Size / Math.Max(inner, 1);
        var idx = new int[r];
        for (int row = 0; row < rows; row++)
        {
            int o = 0;
            for (int d = 0; d < r; d++) o = o * shape[d] + (d == r - 1 ? Pads[2 * d] : idx[d] + Pads[2 * d]);
            Array.Copy(x[0].Data, row * inner, y.Data, o, inner);
            for (int d = r - 2; d >= 0; d--) { if (++idx[d] < s[d]) break; idx[d] = 0; }
        }
        return [y];
    }
}

/// <summary>Picks slices of params along an axis by integer indices (an embedding lookup on axis 0).</summary>
public sealed record GatherOp(int Axis) : Op
{
    public override string Name => "gather";
    public override IEnumerable<(string, object?)> Attributes() => [("axis", Axis)];

    public override TensorType[] InferTypes(TensorType[] x)
    {
        ExpectInputs(Name, x, 2);
        if (!x[1].DType.IsInteger()) throw Error($"gather: indices must be int32 or int64, got {x[1].DType.ShortName()}");
        int a = x[0].Shape.Axis(Axis, Name);
        var dims = x[0].Shape.Dims.Take(a).Concat(x[1].Shape.Dims).Concat(x[0].Shape.Dims.Skip(a + 1)).ToArray();
        return [x[0] with { Shape = new Shape(dims) }];
    }

    public override Tensor?[] Gradient(GradContext g)
    {
        int a = g.X[0].Shape.Axis(Axis, Name);
        return [g.Graph.Add1(new GatherGradOp(a, g.X[0].Shape[a]), [g.Dy, g.X[1]]), null];
    }

    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x)
    {
        var p = x[0]; var idx = x[1]; int a = Axis < 0 ? Axis + p.Rank : Axis;
        int outer = p.Shape.Take(a).Aggregate(1, (q, d) => q * d), n = p.Shape[a], inner = p.Shape.Skip(a + 1).Aggregate(1, (q, d) => q * d);
        var shape = p.Shape.Take(a).Concat(idx.Shape).Concat(p.Shape.Skip(a + 1)).ToArray();
        var y = NDArray.Zeros(p.DType, shape);
        for (int o = 0; o < outer; o++)
            for (int k = 0; k < idx.Size; k++)
            {
                long i = (long)idx.GetDouble(k);
                if (i < 0 || i >= n) throw new GraphException($"gather: index {i} is out of range [0, {n})");
                Array.Copy(p.Data, (o * n + i) * inner, y.Data, (o * idx.Size + k) * inner, inner);
            }
        return [y];
    }
}

/// <summary>Gradient of gather: scatter-adds dy rows back into a zero tensor of the params' shape.</summary>
public sealed record GatherGradOp(int Axis, int Size) : Op
{
    public override string Name => "gather_grad";
    public override IEnumerable<(string, object?)> Attributes() => [("axis", Axis), ("size", Size)];

    public override TensorType[] InferTypes(TensorType[] x)
    {
        ExpectInputs(Name, x, 2); ExpectFloat(Name, x[0]);
        int ir = x[1].Shape.Rank;
        var dims = x[0].Shape.Dims.Take(Axis).Append(Size).Concat(x[0].Shape.Dims.Skip(Axis + ir)).ToArray();
        return [x[0] with { Shape = new Shape(dims) }];
    }

    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x)
    {
        var dy = x[0]; var idx = x[1];
        var shape = dy.Shape.Take(Axis).Append(Size).Concat(dy.Shape.Skip(Axis + idx.Rank)).ToArray();
        var y = NDArray.Zeros(dy.DType, shape);
        int outer = shape.Take(Axis).Aggregate(1, (q, d) => q * d), inner = shape.Skip(Axis + 1).Aggregate(1, (q, d) => q * d);
        for (int o = 0; o < outer; o++)
            for (int k = 0; k < idx.Size; k++)
            {
                int i = (int)idx.GetDouble(k);
                for (int j = 0; j < inner; j++)
                {
                    int dst = (o * Size + i) * inner + j, src = (o * idx.Size + k) * inner + j;
                    if (dy.Data is float[] f) y.As<float>()[dst] += f[src];
                    else y.As<double>()[dst] += dy.As<double>()[src];
                }
            }
        return [y];
    }
}

/// <summary>one_hot(indices, depth): a float32 tensor with a trailing axis of size depth.</summary>
public sealed record OneHotOp(int Depth, DType DType = DType.Float32) : Op
{
    public override string Name => "one_hot";
    public override IEnumerable<(string, object?)> Attributes() => [("depth", Depth), ("dtype", DType.ShortName())];

    public override TensorType[] InferTypes(TensorType[] x)
    {
        ExpectInputs(Name, x, 1);
        if (!x[0].DType.IsInteger()) throw Error($"one_hot: indices must be int32 or int64, got {x[0].DType.ShortName()}");
        return [new TensorType(DType, new Shape(x[0].Shape.Dims.Append(Depth).ToArray()))];
    }

    public override Tensor?[] Gradient(GradContext g) => [null];

    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x)
    {
        var y = NDArray.Zeros(DType, x[0].Shape.Append(Depth).ToArray());
        var one = NDArray.Scalar(DType, 1);
        for (int k = 0; k < x[0].Size; k++)
        {
            long i = (long)x[0].GetDouble(k);
            if (i < 0 || i >= Depth) throw new GraphException($"one_hot: index {i} is out of range [0, {Depth}) (a label outside the class count?)");
            Array.Copy(one.Data, 0, y.Data, k * Depth + i, 1);
        }
        return [y];
    }
}
