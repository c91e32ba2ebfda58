using GraphNet.Runtime.Devices;
namespace GraphNet.Compiler.Tests;

/// <summary>Runs the same fetches through the interpreter and the compiled backend and compares.</summary>
public static class BackendParity
{
    public const double Rtol = 1e-4, Atol = 1e-5;

    /// <summary>
    /// The ILGPU backend on its CPU accelerator, the way CI runs it; $GRAPHNET_TEST_ACCELERATOR
    /// (cuda, opencl, auto) runs the same tests on a GPU (bench/gpu-check.sh does).
    /// </summary>
    public static readonly SessionOptions Ilgpu = new()
    {
        Backend = Backend.Ilgpu, UseCompileCache = false,
        Accelerator = Devices.Parse(Environment.GetEnvironmentVariable("GRAPHNET_TEST_ACCELERATOR") is { Length: > 0 } a ? a : "cpu"),
    };

    public static void Check(Graph g, Tensor[] fetches, Dictionary<Tensor, NDArray> feeds, string what, double rtol = Rtol, double atol = Atol, SessionOptions? options = null)
    {
        using var interp = new Session(g, new SessionOptions { Backend = Backend.Interpreter });
        using var compiled = new Session(g, options ?? new SessionOptions { UseCompileCache = false });
        var expected = interp.Run(fetches, feeds);
        var actual = compiled.Run(fetches, feeds);
        for (int i = 0; i < fetches.Length; i++)
        {
            Assert.Equal(expected[i].Shape, actual[i].Shape);
            Assert.Equal(expected[i].DType, actual[i].DType);
            for (int j = 0; j < expected[i].Size; j++)
            {
                double e = expected[i].GetDouble(j), a = actual[i].GetDouble(j);
                if (!(Math.Abs(e - a) <= atol + rtol * Math.Abs(e)) && !(double.IsNaN(e) && double.IsNaN(a)))
                    Assert.Fail($"{what}: fetch {i} ('{fetches[i].Name}') element {j}: interpreter {e}, compiled {a}\n{compiled.Compiled(fetches, feeds).Report.Source}");
            }
        }
    }

    public static NDArray Random(Random rng, int[] shape, double lo = -1, double hi = 1)
    {
        var a = new float[shape.Aggregate(1, (p, d) => p * d)];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(lo + (hi - lo) * rng.NextDouble());
        return new NDArray(DType.Float32, shape, a);
    }
}
