using BenchmarkDotNet.Attributes;
using GraphNet.Runtime.Kernels;

namespace GraphNet.Bench;

/// <summary>One benchmark per library kernel at the CNN's shapes, so regressions show.</summary>
[MemoryDiagnoser]
public class KernelBenchmarks
{
    private readonly float[] a = new float[1024 * 1024], b = new float[1024 * 1024], c = new float[1024 * 1024];
    private NDArray x = null!, w = null!, dy = null!, pooled = null!;
    private readonly ConvParams conv = new([1, 1], [0, 0], [1, 1], 1);
    private readonly PoolParams pool = new(PoolKind.Max, [2, 2], [2, 2], [0, 0]);

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        for (int i = 0; i < a.Length; i++) { a[i] = (float)rng.NextDouble(); b[i] = (float)rng.NextDouble(); }
        x = Random(rng, 32, 32, 26, 26); w = Random(rng, 64, 32, 3, 3); dy = Random(rng, 32, 64, 24, 24); pooled = Random(rng, 32, 64, 24, 24);
    }

    private static NDArray Random(Random rng, params int[] shape)
    {
        var v = new float[shape.Aggregate(1, (p, d) => p * d)];
        for (int i = 0; i < v.Length; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return new NDArray(DType.Float32, shape, v);
    }

    [Benchmark] public void Gemm1024() => Gemm.Sgemm(false, false, 1024, 1024, 1024, 1f, a, 1024, b, 1024, 0f, c, 1024);
    [Benchmark] public NDArray Conv2Forward() => Conv.Forward(x, w, conv);
    [Benchmark] public NDArray Conv2DataGrad() => Conv.Transposed(dy, w, conv, [0, 0]);
    [Benchmark] public NDArray Conv2FilterGrad() => Conv.FilterGrad(x, dy, conv, 3, 3);
    [Benchmark] public NDArray MaxPool() => Pool.Forward(pooled, pool);
}
