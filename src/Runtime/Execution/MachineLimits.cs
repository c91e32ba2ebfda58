using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GraphNet.Runtime;

/// <summary>
/// The machine's limits, measured: the FP32 FMA peak at the native vector width (Vector512 with
/// AVX-512, else Vector256) on one core and on all, and the memory bandwidth of a streaming copy
/// on all cores. The profiler and the benches judge kernels against them (a kernel whose FLOPs per
/// byte are above <see cref="Balance"/> is compute-bound on this machine). Measured once per
/// process, in about half a second; $GRAPHNET_PEAK_GFLOPS and $GRAPHNET_BANDWIDTH_GBS override.
/// </summary>
public sealed record MachineLimits(double PeakGflopsPerCore, double PeakGflops, double BandwidthGBs)
{
    private static readonly Lazy<MachineLimits> measured = new(Measure);

    /// <summary>This machine's limits (measured on first use).</summary>
    public static MachineLimits Current => measured.Value;

    /// <summary>FLOPs per byte at which the peak and the bandwidth take the same time.</summary>
    public double Balance => PeakGflops / BandwidthGBs;

    private static MachineLimits Measure()
    {
        static double? Env(string name) =>
            double.TryParse(Environment.GetEnvironmentVariable(name), System.Globalization.CultureInfo.InvariantCulture, out var v)
            && v > 0 ? v : null;
        int cores = Environment.ProcessorCount;
        var peak = Env("GRAPHNET_PEAK_GFLOPS");
        return new MachineLimits(peak / cores ?? MeasureGflops(1), peak ?? MeasureGflops(cores),
            Env("GRAPHNET_BANDWIDTH_GBS") ?? MeasureBandwidth(cores));
    }

    /// <summary>
    /// GB/s of a copy between two 64 MiB arrays (far beyond the caches), split over
    /// <paramref name="threads"/> threads; bytes read plus bytes written, best of five.
    /// </summary>
    public static double MeasureBandwidth(int threads)
    {
        const int n = 16 << 20;
        var from = new float[n]; var to = new float[n];
        Array.Fill(from, 1f); Array.Fill(to, 0f); // touch every page before timing
        double best = 0;
        for (int rep = 0; rep < 5; rep++)
        {
            var sw = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                int lo = (int)((long)n * t / threads), hi = (int)((long)n * (t + 1) / threads);
                from.AsSpan(lo, hi - lo).CopyTo(to.AsSpan(lo, hi - lo));
            });
            best = Math.Max(best, 2.0 * n * sizeof(float) / sw.Elapsed.TotalSeconds / 1e9);
        }
        return best;
    }

    /// <summary>GFLOP/s of independent vector FMAs on <paramref name="threads"/> threads at once (best of three).</summary>
    public static double MeasureGflops(int threads)
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
        Vector512<float> a0 = m, a1 = m, a2 = m, a3 = m, a4 = m, a5 = m, a6 = m, a7 = m,
            a8 = m, a9 = m, a10 = m, a11 = m, a12 = m, a13 = m, a14 = m, a15 = m;
        for (long i = 0; i < n; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, add); a1 = Vector512.FusedMultiplyAdd(a1, m, add); a2 = Vector512.FusedMultiplyAdd(a2, m, add);
            a3 = Vector512.FusedMultiplyAdd(a3, m, add); a4 = Vector512.FusedMultiplyAdd(a4, m, add); a5 = Vector512.FusedMultiplyAdd(a5, m, add);
            a6 = Vector512.FusedMultiplyAdd(a6, m, add); a7 = Vector512.FusedMultiplyAdd(a7, m, add); a8 = Vector512.FusedMultiplyAdd(a8, m, add);
            a9 = Vector512.FusedMultiplyAdd(a9, m, add); a10 = Vector512.FusedMultiplyAdd(a10, m, add); a11 = Vector512.FusedMultiplyAdd(a11, m, add);
            a12 = Vector512.FusedMultiplyAdd(a12, m, add); a13 = Vector512.FusedMultiplyAdd(a13, m, add);
            a14 = Vector512.FusedMultiplyAdd(a14, m, add); a15 = Vector512.FusedMultiplyAdd(a15, m, add);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static float Fma256(long n, float s)
    {
        // Twelve chains: enough for two pipes of 4-cycle FMAs, and they fit AVX2's 16 registers.
        var m = Vector256.Create(s); var add = Vector256.Create(1e-7f);
        Vector256<float> a0 = m, a1 = m, a2 = m, a3 = m, a4 = m, a5 = m,
            a6 = m, a7 = m, a8 = m, a9 = m, a10 = m, a11 = m;
        for (long i = 0; i < n; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, m, add); a1 = Vector256.FusedMultiplyAdd(a1, m, add); a2 = Vector256.FusedMultiplyAdd(a2, m, add);
            a3 = Vector256.FusedMultiplyAdd(a3, m, add); a4 = Vector256.FusedMultiplyAdd(a4, m, add); a5 = Vector256.FusedMultiplyAdd(a5, m, add);
            a6 = Vector256.FusedMultiplyAdd(a6, m, add); a7 = Vector256.FusedMultiplyAdd(a7, m, add); a8 = Vector256.FusedMultiplyAdd(a8, m, add);
            a9 = Vector256.FusedMultiplyAdd(a9, m, add); a10 = Vector256.FusedMultiplyAdd(a10, m, add); a11 = Vector256.FusedMultiplyAdd(a11, m, add);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }
}
