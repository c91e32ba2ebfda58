using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using GraphNet.Runtime.Kernels;

namespace GraphNet.Bench;

/// <summary>
/// The machine's FP32 FMA peak (at the native vector width: Vector512 with AVX-512, else Vector256) and GEMM
/// throughput against it.
/// </summary>
public static class Peak
{
    /// <summary>GFLOP/s of independent vector FMAs on <paramref name="threads"/> threads at once (best of three).</summary>
    public static double Gflops(int threads)
    {
        double best = 0;
        for (int rep = 0; rep < 3; rep++)
        {
            const long n = 20_000_000;
            var sw = Stopwatch.StartNew();
            bool wide = Vector512.IsHardwareAccelerated;
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ =>
            {
                if (wide) Fma(n, 1.0000001f);
                else Fma256(n, 1.0000001f);
            });
            int lanes = wide ? Vector512<float>.Count : Vector256<float>.Count;
            best = Math.Max(best, threads * (wide ? 16.0 : 12.0) * lanes * 2 * n / sw.Elapsed.TotalSeconds / 1e9);
        }
        return best;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static float Fma(long n, float s)
    {
        // Sixteen independent chains: enough to cover the FMA latency on both pipes.
        var m = Vector512.Create(s); var add = Vector512.Create(1e-7f);
        Vector512<float> a0 = m, a1 = m, a2 = m, a3 = m, a4 = m, a5 = m, a6 = m, a7 = m, a8 = m, a9 = m, a10 = m, a11 = m, a12 = m, a13 = m, a14 = m, a15 = m;
        for (long i = 0; i < n; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, add); a1 = Vector512.FusedMultiplyAdd(a1, m, add); a2 = Vector512.FusedMultiplyAdd(a2, m, add); a3 = Vector512.FusedMultiplyAdd(a3, m, add);
            a4 = Vector512.FusedMultiplyAdd(a4, m, add); a5 = Vector512.FusedMultiplyAdd(a5, m, add); a6 = Vector512.FusedMultiplyAdd(a6, m, add); a7 = Vector512.FusedMultiplyAdd(a7, m, add);
            a8 = Vector512.FusedMultiplyAdd(a8, m, add); a9 = Vector512.FusedMultiplyAdd(a9, m, add); a10 = Vector512.FusedMultiplyAdd(a10, m, add); a11 = Vector512.FusedMultiplyAdd(a11, m, add);
            a12 = Vector512.FusedMultiplyAdd(a12, m, add); a13 = Vector512.FusedMultiplyAdd(a13, m, add); a14 = Vector512.FusedMultiplyAdd(a14, m, add); a15 = Vector512.FusedMultiplyAdd(a15, m, add);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static float Fma256(long n, float s)
    {
        // Twelve chains: enough for two pipes of 4-cycle FMAs, and they fit AVX2's 16 registers.
        var m = Vector256.Create(s); var add = Vector256.Create(1e-7f);
        Vector256<float> a0 = m, a1 = m, a2 = m, a3 = m, a4 = m, a5 = m, a6 = m, a7 = m, a8 = m, a9 = m, a10 = m, a11 = m;
        for (long i = 0; i < n; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, m, add); a1 = Vector256.FusedMultiplyAdd(a1, m, add); a2 = Vector256.FusedMultiplyAdd(a2, m, add);
            a3 = Vector256.FusedMultiplyAdd(a3, m, add); a4 = Vector256.FusedMultiplyAdd(a4, m, add); a5 = Vector256.FusedMultiplyAdd(a5, m, add);
            a6 = Vector256.FusedMultiplyAdd(a6, m, add); a7 = Vector256.FusedMultiplyAdd(a7, m, add); a8 = Vector256.FusedMultiplyAdd(a8, m, add);
            a9 = Vector256.FusedMultiplyAdd(a9, m, add); a10 = Vector256.FusedMultiplyAdd(a10, m, add); a11 = Vector256.FusedMultiplyAdd(a11, m, add);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    public static int PeakCommand()
    {
        Console.WriteLine($"peak_gflops_1core={Gflops(1):F1}");
        Console.WriteLine($"peak_gflops_all={Gflops(Environment.ProcessorCount):F1}");
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
