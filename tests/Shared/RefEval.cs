namespace GraphNet.Tests;

/// <summary>
/// The tests' oracle: <see cref="Reference"/> (each op's reference evaluation, the runtime's interpreter is
/// tested against it in turn), and random inputs and comparisons.
/// </summary>
public static class RefEval
{
    public static NDArray[] Run(IReadOnlyList<Tensor> fetches, IReadOnlyDictionary<Tensor, NDArray> feeds,
        IReadOnlyDictionary<string, NDArray>? variables = null, long runCounter = 0) =>
        Reference.Run(fetches, feeds, variables, runCounter);

    public static NDArray Run(Tensor fetch, params (Tensor, NDArray)[] feeds) => Run([fetch], feeds.ToDictionary(f => f.Item1, f => f.Item2))[0];

    public static NDArray RandomDouble(Random rng, int[] shape, double lo = -1, double hi = 1)
    {
        var a = NDArray.Zeros(DType.Float64, shape);
        var d = a.As<double>();
        for (int i = 0; i < d.Length; i++) d[i] = lo + (hi - lo) * rng.NextDouble();
        return a;
    }

    public static NDArray RandomFloat(Random rng, int[] shape, double lo = -1, double hi = 1)
    {
        var a = NDArray.Zeros(DType.Float32, shape);
        var d = a.As<float>();
        for (int i = 0; i < d.Length; i++) d[i] = (float)(lo + (hi - lo) * rng.NextDouble());
        return a;
    }

    public static void AssertClose(NDArray expected, NDArray actual, double rtol = 1e-5, double atol = 1e-6, string what = "")
    {
        Assert.Equal(expected.Shape, actual.Shape);
        for (int i = 0; i < expected.Size; i++)
        {
            double e = expected.GetDouble(i), a = actual.GetDouble(i);
            // A NaN compares false with everything: without this, a NaN on either side would pass.
            if (!double.IsFinite(e) || !double.IsFinite(a))
            {
                if (!e.Equals(a)) Assert.Fail($"{what} element {i}: expected {e}, got {a}");
            }
            else if (Math.Abs(e - a) > atol + rtol * Math.Abs(e))
                Assert.Fail($"{what} element {i}: expected {e}, got {a} (|diff| {Math.Abs(e - a):G3})");
        }
    }
}
