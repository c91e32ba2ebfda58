using System.Diagnostics;
using GraphNet.Runtime;
using GraphNet.Runtime.Kernels;

namespace GraphNet.Bench;

/// <summary>
/// The machine's FP32 FMA peak (at the native vector width: Vector512 with AVX-512, else Vector256) and GEMM
/// throughput against it.
/// </summary>
public static class Peak
{
    /// <summary>GFLOP/s of independent vector FMAs on <paramref name="threads"/> threads at once (best of three).</summary>
    public static double Gflops(int threads) => MachineLimits.MeasureGflops(threads);

    public static int PeakCommand()
    {
        Console.WriteLine($"peak_gflops_1core={Gflops(1):F1}");
        Console.WriteLine($"peak_gflops_all={Gflops(Environment.ProcessorCount):F1}");
        Console.WriteLine($"bandwidth_gbs={MachineLimits.MeasureBandwidth(Environment.ProcessorCount):F1}");
        return 0;
    }

    /// <summary>
    /// bench -- gemm --m M --n N --k K [--threads T]: median GFLOP/s against the peak for that many threads,
    /// measured in the same process.
    /// </summary>
    public static int GemmCommand(int m, int n, int k, int threads)
    {
        var a = new float[(long)m * k]; var b = new float[(long)k * n]; var c = new float[(long)m * n];
        var rng = new Random(1);
        for (int i = 0; i < a.Length; i++) a[i] = (float)rng.NextDouble();
        for (int i = 0; i < b.Length; i++) b[i] = (float)rng.NextDouble();
        void Run()
        {
            if (threads == 1) Gemm.Sgemm(false, false, m, n, k, 1f, a, k, b, n, 0f, c, n, parallel: false);
            else Gemm.Sgemm(false, false, m, n, k, 1f, a, k, b, n, 0f, c, n, parallel: true);
        }
        for (int i = 0; i < 3; i++) Run();
        var times = new List<double>();
        for (int i = 0; i < 15; i++) { var sw = Stopwatch.StartNew(); Run(); times.Add(sw.Elapsed.TotalSeconds); }
        times.Sort();
        double gflops = 2.0 * m * n * k / times[times.Count / 2] / 1e9;
        double peak = Gflops(threads);
        Console.WriteLine($"m={m} n={n} k={k} threads={threads}");
        Console.WriteLine($"gflops={gflops:F1}");
        Console.WriteLine($"best_gflops={2.0 * m * n * k / times[0] / 1e9:F1}");
        Console.WriteLine($"peak_gflops={peak:F1}");
        Console.WriteLine($"fraction_of_peak={gflops / peak:F3}");
        return 0;
    }
}
