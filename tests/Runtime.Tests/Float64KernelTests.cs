using GraphNet.Runtime.Kernels;

namespace GraphNet.Runtime.Tests;

/// <summary>
/// The float64 GEMM against the triple loop, and the float64 convolutions against a direct loop
/// and the adjoint identities that tie a convolution to its two gradients.
/// </summary>
public class Float64KernelTests
{
    private static double[] Random(int seed, int size)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, size).Select(_ => r.NextDouble() * 2 - 1).ToArray();
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 5, 3)]
    [InlineData(33, 17, 300)]   // more than one K block
    [InlineData(130, 1030, 20)] // more than one M and N block, split over cores
    [InlineData(9, 2100, 70)]
    [InlineData(64, 48, 301)]   // whole 8×16 tiles, a K tail not a multiple of the 4×4 packing transposes
    public void DgemmMatchesTheTripleLoopForEveryTransposition(int m, int n, int k)
    {
        var a = Random(1, m * k); var b = Random(2, k * n); var c0 = Random(3, m * n);
        // beta = 0 ignores C's old values, NaN included (the first K block stores its products), as BLAS does.
        foreach (var (alpha, beta) in new[] { (0.5, -2.0), (1.0, 0.0), (1.0, 1.0) })
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                {
                    var c = beta == 0 ? Enumerable.Repeat(double.NaN, m * n).ToArray() : (double[])c0.Clone();
                    Dgemm.Run(ta, tb, m, n, k, alpha, a, ta ? m : k, b, tb ? k : n, beta, c, n);
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++)
                        {
                            double s = 0;
                            for (int p = 0; p < k; p++) s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
                            Assert.Equal(alpha * s + (beta == 0 ? 0 : beta * c0[i * n + j]), c[i * n + j], 1e-11);
                        }
                }
    }

    [Theory]
    [InlineData(2, 3, 9, 4, 3, 1, 1)]
    [InlineData(3, 8, 10, 6, 4, 2, 1)] // DCGAN's 4x4 stride-2 shape
    [InlineData(1, 5, 7, 2, 5, 2, 2)]
    public void Float64ConvolutionsMatchTheLoopAndTheirGradientsAreItsAdjoints(int n, int c, int h, int co, int k, int s, int pad)
    {
        var p = new ConvParams([s, s], [pad, pad], [1, 1], 1);
        var x = NDArray.From(Random(4, n * c * h * h), n, c, h, h);
        var w = NDArray.From(Random(5, co * c * k * k), co, c, k, k);
        var y = Conv.Forward(x, w, p);
        int ho = (h + 2 * pad - k) / s + 1;
        Assert.Equal(new[] { n, co, ho, ho }, y.Shape);
        for (int b = 0; b < n; b++)
            for (int o = 0; o < co; o++)
                for (int i = 0; i < ho; i++)
                    for (int j = 0; j < ho; j++)
                    {
                        double sum = 0;
                        for (int ci = 0; ci < c; ci++)
                            for (int u = 0; u < k; u++)
                                for (int v = 0; v < k; v++)
                                {
                                    int r = i * s - pad + u, q = j * s - pad + v;
                                    if (r >= 0 && r < h && q >= 0 && q < h)
                                        sum += x.GetDouble(((b * c + ci) * h + r) * h + q) * w.GetDouble(((o * c + ci) * k + u) * k + v);
                                }
                        Assert.Equal(sum, y.GetDouble(((b * co + o) * ho + i) * ho + j), 1e-11);
                    }
        // <conv(x, w), dy> = <x, conv_transpose(dy, w)> = <w, filter_grad(x, dy)>.
        var dy = NDArray.From(Random(6, y.Size), y.Shape);
        double Dot(NDArray u, NDArray v) => Enumerable.Range(0, u.Size).Sum(i => u.GetDouble(i) * v.GetDouble(i));
        int outPad = h - ((ho - 1) * s - 2 * pad + k);
        var dx = Conv.Transposed(dy, w, p, [outPad, outPad]);
        var dw = Conv.FilterGrad(x, dy, p, k, k);
        Assert.Equal(DType.Float64, dx.DType);
        Assert.Equal(Dot(y, dy), Dot(x, dx), 1e-9);
        Assert.Equal(Dot(y, dy), Dot(w, dw), 1e-9);
    }
}
