namespace GraphNet.Tests;

/// <summary>F.Scan: forward values against the same steps unrolled by hand, gradients against finite differences.</summary>
public class ScanTests
{
    /// <summary>An Elman step: h' = tanh(x W + h U + b), y = h' · 2 (captured W, U, b).</summary>
    private static (Tensor[], Tensor[]) Elman(Tensor[] c, Tensor[] x, Tensor w, Tensor u, Tensor b)
    {
        var h = F.Tanh(F.MatMul(x[0], w) + F.MatMul(c[0], u) + b);
        return ([h], [h * 2.0]);
    }

    [Fact]
    public void AScanComputesWhatItsStepsUnrolledByHandCompute()
    {
        var rng = new Random(3);
        var g = new Graph();
        var xs = g.Placeholder(DType.Float64, [4, 2, 3], "xs"); // [T, N, F]
        var h0 = g.Placeholder(DType.Float64, [2, 5], "h0");
        var w = g.Constant(RefEval.RandomDouble(rng, [3, 5]), "w");
        var u = g.Constant(RefEval.RandomDouble(rng, [5, 5]), "u");
        var b = g.Constant(RefEval.RandomDouble(rng, [5]), "b");
        var (last, ys) = F.Scan((c, x) => Elman(c, x, w, u, b), [h0], [xs]);
        Assert.Equal(new Shape(4, 2, 5), ys[0].Shape);

        var h = h0;
        var outs = new List<Tensor>();
        for (int t = 0; t < 4; t++)
        {
            var (c, y) = Elman([h], [F.Reshape(F.Slice(xs, 0, t, 1), [2, 3])], w, u, b);
            h = c[0];
            outs.Add(F.Reshape(y[0], [1, 2, 5]));
        }
        var feeds = new Dictionary<Tensor, NDArray> { [xs] = RefEval.RandomDouble(rng, [4, 2, 3]), [h0] = RefEval.RandomDouble(rng, [2, 5]) };
        var got = RefEval.Run([last[0], ys[0]], feeds);
        var want = RefEval.Run([h, F.Concat(outs, 0)], feeds);
        for (int k = 0; k < 2; k++)
            Assert.Equal(want[k].ToDoubleArray(), got[k].ToDoubleArray());
    }

    [Theory]
    [InlineData(false, false, 0)]
    [InlineData(true, false, 0)]
    [InlineData(false, true, 1)]
    [InlineData(true, true, 1)]
    public void TheGradientThroughAScanMatchesFiniteDifferences(bool recompute, bool reverse, int axis)
    {
        // Inputs: the sequence, the initial state and the three weights, all differentiated.
        GradCheck.Check((g, p) =>
        {
            var (last, ys) = F.Scan((c, x) => Elman(c, x, p[2], p[3], p[4]), [p[1]], [p[0]], axis: axis, reverse: reverse, recompute: recompute);
            return F.Concat([F.Reshape(ys[0], [-1]), F.Reshape(last[0], [-1])], 0);
        }, new GradCheck.Input(axis == 0 ? [3, 2, 3] : [2, 3, 3]), new GradCheck.Input([2, 4]),
           new GradCheck.Input([3, 4]), new GradCheck.Input([4, 4]), new GradCheck.Input([4]));
    }

    [Fact]
    public void TheGradientThroughAScanWithTwoCarriesAndNoSequenceMatchesFiniteDifferences()
    {
        // A damped oscillator stepped 5 times: the carries feed each other; the step's output is their product.
        GradCheck.Check((g, p) =>
        {
            var (carries, ys) = F.Scan((c, _) =>
            {
                var a = c[0] + 0.1 * c[1] * p[2];
                var b = c[1] - 0.1 * F.Tanh(a);
                return ([a, b], [a * b]);
            }, [p[0], p[1]], [], length: 5);
            return F.Concat([F.Reshape(ys[0], [-1]), carries[0], carries[1]], 0);
        }, new GradCheck.Input([3]), new GradCheck.Input([3]), new GradCheck.Input([3]));
    }

    [Fact]
    public void ANestedScanIsDifferentiatedThroughBothLoops()
    {
        GradCheck.Check((g, p) =>
        {
            var (_, ys) = F.Scan((c, x) =>
            {
                var (inner, _) = F.Scan((ci, xi) => ([F.Tanh(ci[0] * xi[0] + c[0])], []), [c[0]], [x[0]]);
                return ([inner[0]], [inner[0] * p[2]]);
            }, [p[1]], [p[0]]);
            return F.Reshape(ys[0], [-1]);
        }, new GradCheck.Input([2, 3, 2]), new GradCheck.Input([2]), new GradCheck.Input([2]));
    }

    [Fact]
    public void ABodyThatChangesACarrysShapeOrMakesAVariableIsRefusedWithTheReason()
    {
        var g = new Graph();
        var h0 = g.Placeholder([2, 3], "h0");
        var xs = g.Placeholder([4, 2, 3], "xs");
        var e = Assert.Throws<GraphException>(() => F.Scan((c, x) => ([F.Sum(c[0], [1])], []), [h0], [xs]));
        Assert.Contains("carry 0", e.Message);
        e = Assert.Throws<GraphException>(() => F.Scan((c, x) => ([c[0] * c[0].Graph.Variable("w", [3], Initializer.Zeros)], []), [h0], [xs]));
        Assert.Contains("outside F.Scan", e.Message);
        var n = g.Placeholder([-1, 4, 3], "n");
        e = Assert.Throws<GraphException>(() => F.Scan((c, x) => ([c[0] + F.Sum(x[0], [0])], []), [g.Placeholder([-1, 3], "hn")], [n]));
        Assert.Contains("symbolic N", e.Message);
    }
}
