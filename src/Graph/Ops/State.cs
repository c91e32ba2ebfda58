namespace GraphNet;

/// <summary>A value supplied at run time through the feeds (or its default, when it has one).</summary>
public sealed record PlaceholderOp(TensorType Type, NDArray? Default = null) : Op
{
    public override string Name => "placeholder";
    public override IEnumerable<(string, object?)> Attributes() => Default is null ? [] : [("default", Default.ToString())];
    public override TensorType[] InferTypes(TensorType[] x) => [Type];
    public override bool IsStateful => true;
    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x) =>
        Default is { } d ? [d] : throw new GraphException("placeholders are fed by the session");
}

/// <summary>A variable: its value lives in the session and persists across runs.</summary>
public sealed record VariableOp(string VarName, TensorType Type, Initializer? Initializer, bool Trainable) : Op
{
    public override string Name => "variable";
    public override IEnumerable<(string, object?)> Attributes() =>
        [("name", VarName), ("init", Initializer?.ToString() ?? "none"), ("trainable", Trainable)];
    public override TensorType[] InferTypes(TensorType[] x) => [Type];
    public override bool IsStateful => true;
    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x) => throw new GraphException("variables are read from the session");
}

/// <summary>A constant value.</summary>
public sealed record ConstantOp(NDArray Value) : Op
{
    public override string Name => "constant";
    public override IEnumerable<(string, object?)> Attributes() => [("value", Value.Size <= 4 ? string.Join(",", Value.ToDoubleArray().Select(v => GraphText.FormatValue(v))) : $"<{Value.Size} values>")];
    public override TensorType[] InferTypes(TensorType[] x) => [new TensorType(Value.DType, new Shape(Value.Shape))];
    public override Tensor?[] Gradient(GradContext g) => [];
    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x) => [Value];
}

/// <summary>
/// Writes its second input into the variable given as first input. The output is the new value.
/// All reads in a run see the values from the start of the run; writes take effect when it ends.
/// </summary>
public sealed record AssignOp : Op
{
    public override string Name => "assign";
    public override bool IsStateful => true;

    public override TensorType[] InferTypes(TensorType[] x)
    {
        ExpectInputs(Name, x, 2);
        if (x[0] != x[1])
            throw Error($"assign: value {x[1]} does not match variable {x[0]}");
        return [x[0]];
    }

    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x) => [x[1]];
}

/// <summary>Runs all its inputs; its value is the first input's (the train op returns the new step count).</summary>
public sealed record GroupOp : Op
{
    public override string Name => "group";
    public override bool IsStateful => true;
    public override TensorType[] InferTypes(TensorType[] x) => x.Length > 0 ? [x[0]] : throw Error("group needs at least one input");
    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x) => [x[0]];
}
