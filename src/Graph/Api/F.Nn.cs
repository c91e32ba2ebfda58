namespace GraphNet;

public static partial class F
{
    private static int[] Pair(int v) => [v, v];

    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1) =>
        Conv2d(x, weight, bias, Pair(stride), Pair(padding), Pair(dilation), groups);

    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias, int[] stride, int[] padding, int[] dilation, int groups = 1)
    {
        var y = x.Graph.Add1(new Conv2dOp(new ConvParams(stride, padding, dilation, groups)), [x, weight]);
        return bias is null ? y : y + Reshape(bias, [-1, 1, 1]);
    }

    public static Tensor ConvTranspose2d(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int outputPadding = 0, int groups = 1, int dilation = 1)
    {
        var p = new ConvParams(Pair(stride), Pair(padding), Pair(dilation), groups);
        var y = x.Graph.Add1(new ConvTranspose2dOp(p, Pair(outputPadding)), [x, weight]);
        return bias is null ? y : y + Reshape(bias, [-1, 1, 1]);
    }

    private static Tensor Pool(PoolKind kind, Tensor x, int kernel, int? stride, int padding) =>
        Pool2d(x, new PoolParams(kind, Pair(kernel), Pair(stride ?? kernel), Pair(padding)));

    /// <summary>2-D pooling with (height, width) pairs for the window, stride and padding, as PyTorch's tuple arguments.</summary>
    public static Tensor Pool2d(Tensor x, PoolParams p) => x.Graph.Add1(new Pool2dOp(p), [x]);

    /// <summary>Max pooling; the stride defaults to the kernel size, as in PyTorch.</summary>
    public static Tensor MaxPool2d(Tensor x, int kernel, int? stride = null, int padding = 0) => Pool(PoolKind.Max, x, kernel, stride, padding);
    public static Tensor MinPool2d(Tensor x, int kernel, int? stride = null, int padding = 0) => Pool(PoolKind.Min, x, kernel, stride, padding);
    public static Tensor AvgPool2d(Tensor x, int kernel, int? stride = null, int padding = 0) => Pool(PoolKind.Avg, x, kernel, stride, padding);

    /// <summary>Dropout controlled by <paramref name="training"/> (default: the graph's training switch).</summary>
    public static Tensor Dropout(Tensor x, double rate = 0.5, Tensor? training = null, int? seed = null)
    {
        var g = x.Graph;
        int s = seed ?? g.Nodes.Count(n => n.Op is DropoutOp) + 1;
        return g.Add1(new DropoutOp(rate, s), [x, training ?? g.Training]);
    }
}
