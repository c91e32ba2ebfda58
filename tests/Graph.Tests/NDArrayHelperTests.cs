namespace GraphNet.Tests;

public class NDArrayHelperTests
{
    [Fact]
    public void FilledRangesAndRandomArraysHoldWhatTheirNamesSay()
    {
        Assert.Equal(new[] { 1.0, 1.0, 1.0, 1.0 }, NDArray.Ones(DType.Float32, 2, 2).ToDoubleArray());
        Assert.Equal(new[] { 2.5, 2.5 }, NDArray.Full(DType.Float64, [2], 2.5).ToDoubleArray());
        // torch.arange(1, 2, 0.3) = [1.0, 1.3, 1.6, 1.9]; arange(5, 1, -2) = [5, 3]; arange(4) is int64.
        Assert.Equal(new[] { 1.0, 1.3, 1.6, 1.9 }, NDArray.Arange(1, 2, 0.3, DType.Float64).ToDoubleArray(), (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal(new[] { 5.0, 3.0 }, NDArray.Arange(5, 1, -2).ToDoubleArray());
        Assert.Equal(DType.Int64, NDArray.Arange(4).DType);
        Assert.Throws<ArgumentException>(() => NDArray.Arange(0, 3, -1));
        var u = NDArray.Rand([10000], seed: 3);
        Assert.All(u.ToDoubleArray(), v => Assert.InRange(v, 0, 1));
        Assert.Equal(u.ToDoubleArray(), NDArray.Rand([10000], seed: 3).ToDoubleArray());
        Assert.NotEqual(u.ToDoubleArray(), NDArray.Rand([10000], seed: 4).ToDoubleArray());
        var n = NDArray.Randn([10000], seed: 1, DType.Float64);
        Assert.InRange(n.Mean(), -0.05, 0.05); // 5 standard errors of 0.01
        Assert.InRange(Math.Sqrt((n * n).Mean()), 0.965, 1.035);
    }

    [Fact]
    public void BatchesOfRowsArithmeticAndArgMaxWorkOnTheFirstAndLastAxes()
    {
        var x = NDArray.From(Enumerable.Range(0, 12).Select(i => (float)i).ToArray(), 4, 3);
        var rows = x.Slice(1, 2);
        Assert.Equal(new[] { 2, 3 }, rows.Shape);
        Assert.Equal(new[] { 3.0, 4, 5, 6, 7, 8 }, rows.ToDoubleArray());
        Assert.Equal(new[] { 9.0, 10, 11, 0, 1, 2 }, x.Take([3, 0]).ToDoubleArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Slice(3, 2));
        Assert.Equal(new[] { 1.0, 3.0 }, (NDArray.From([1f, 2f], 2) * 2 - NDArray.From([1f, 1f], 2)).ToDoubleArray());
        Assert.Equal(new[] { 0.5, 1.0 }, (NDArray.From([1.0, 2.0], 2) / NDArray.Scalar(2.0)).ToDoubleArray());
        Assert.Throws<ArgumentException>(() => x + rows);
        Assert.Equal(66.0, x.Sum());
        var scores = NDArray.From([0.1f, 0.7f, 0.2f, 0.5f, 0.5f, 0.1f], 2, 3);
        Assert.Equal(new long[] { 1, 0 }, scores.ArgMax().As<long>()); // the first on a tie, as torch.argmax
    }
}
