namespace GraphNet;

/// <summary>
/// The user's handle to one output of a node. Arithmetic operators build new nodes in the
/// same graph.
/// </summary>
public sealed class Tensor
{
    internal Tensor(Node node, int index) { Node = node; Index = index; }

    public Node Node { get; }
    public int Index { get; }
    public Graph Graph => Node.Graph;
    public TensorType Type => Node.OutputTypes[Index];
    public Shape Shape => Type.Shape;
    public DType DType => Type.DType;
    public int Rank => Shape.Rank;
    public string Name => Node.OutputTypes.Count == 1 ? Node.Name : $"{Node.Name}:{Index}";

    /// <summary>
    /// Eager tensors have a value at once; a symbolic tensor has to be run in a session first.
    /// </summary>
    public NDArray Value => Graph.EagerValue(this)
        ?? throw new InvalidOperationException($"'{Name}' is a symbolic tensor of a graph; run it in a session to get its value: session.Run({Name})");

    public static Tensor operator +(Tensor a, Tensor b) => F.Add(a, b);
    public static Tensor operator -(Tensor a, Tensor b) => F.Sub(a, b);
    public static Tensor operator *(Tensor a, Tensor b) => F.Mul(a, b);
    public static Tensor operator /(Tensor a, Tensor b) => F.Div(a, b);
    public static Tensor operator -(Tensor a) => F.Neg(a);
    public static Tensor operator +(Tensor a, double b) => F.Add(a, a.Graph.Scalar(b, a.DType));
    public static Tensor operator +(double a, Tensor b) => F.Add(b.Graph.Scalar(a, b.DType), b);
    public static Tensor operator -(Tensor a, double b) => F.Sub(a, a.Graph.Scalar(b, a.DType));
    public static Tensor operator -(double a, Tensor b) => F.Sub(b.Graph.Scalar(a, b.DType), b);
    public static Tensor operator *(Tensor a, double b) => F.Mul(a, a.Graph.Scalar(b, a.DType));
    public static Tensor operator *(double a, Tensor b) => F.Mul(b.Graph.Scalar(a, b.DType), b);
    public static Tensor operator /(Tensor a, double b) => F.Div(a, a.Graph.Scalar(b, a.DType));
    public static Tensor operator /(double a, Tensor b) => F.Div(b.Graph.Scalar(a, b.DType), b);

    public Tensor Reshape(params int[] shape) => F.Reshape(this, shape);
    public Tensor Transpose(params int[] perm) => F.Transpose(this, perm);
    public Tensor Sum(int[]? axes = null, bool keepDims = false) => F.Sum(this, axes, keepDims);
    public Tensor Mean(int[]? axes = null, bool keepDims = false) => F.Mean(this, axes, keepDims);
    public Tensor Cast(DType dtype) => F.Cast(this, dtype);

    public override string ToString() => $"Tensor '{Name}' {Type}";
}
