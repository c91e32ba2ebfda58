using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using GraphNet.Runtime.Kernels;

namespace GraphNet.Bench;

/// <summary>One benchmark per library kernel at the CNN's shapes, so regressions show.</summary>
[MemoryDiagnoser]
public class KernelBenchmarks
{
    private readonly float[] a = new float[1024 * 1024], b = new float[1024 * 1024], c = new float[1024 * 1024];
    private NDArray x = null!, w = null!, dy = null!, pooled = null!, poolGrad = null!, gates = null!, gatesGrad = null!, logits = null!;
    private NDArray fc1In = null!, fc1W = null!, fc1Out = null!, poolDx = null!, padded = null!;
    private NDArray images = null!, w1 = null!, dy1 = null!, y1 = null!, dw1 = null!, y2 = null!, dx2 = null!, dw2 = null!;
    private readonly float[] stackedGates = new float[1728 * 512], stackedH = new float[1728 * 128], recurrentGrad = new float[512 * 128];
    private readonly float[] row = new float[8192], rowOut = new float[8192];
    private readonly ConvParams conv = new([1, 1], [0, 0], [1, 1], 1);
    private readonly PoolParams pool = new(PoolKind.Max, [2, 2], [2, 2], [0, 0]);

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        for (int i = 0; i < a.Length; i++) { a[i] = (float)rng.NextDouble(); b[i] = (float)rng.NextDouble(); }
        x = Random(rng, 32, 32, 26, 26); w = Random(rng, 64, 32, 3, 3); dy = Random(rng, 32, 64, 24, 24); pooled = Random(rng, 32, 64, 24, 24);
        poolGrad = Random(rng, 32, 64, 12, 12); poolDx = NDArray.Zeros(DType.Float32, 32, 64, 24, 24);
        gates = Random(rng, 64, 512); gatesGrad = Random(rng, 64, 128); padded = NDArray.Zeros(DType.Float32, 64, 512); logits = Random(rng, 64, 10);
        fc1In = Random(rng, 1, 9216); fc1W = Random(rng, 128, 9216); fc1Out = NDArray.Zeros(DType.Float32, 1, 128);
        for (int i = 0; i < row.Length; i++) row[i] = (float)(rng.NextDouble() * 8 - 4);
        images = Random(rng, 32, 1, 28, 28); w1 = Random(rng, 32, 1, 3, 3); dy1 = Random(rng, 32, 32, 26, 26);
        y1 = NDArray.Zeros(DType.Float32, 32, 32, 26, 26); dw1 = NDArray.Zeros(DType.Float32, 32, 1, 3, 3);
        y2 = NDArray.Zeros(DType.Float32, 32, 64, 24, 24); dx2 = NDArray.Zeros(DType.Float32, 32, 32, 26, 26); dw2 = NDArray.Zeros(DType.Float32, 64, 32, 3, 3);
        for (int i = 0; i < stackedGates.Length; i++) stackedGates[i] = (float)rng.NextDouble();
        for (int i = 0; i < stackedH.Length; i++) stackedH[i] = (float)rng.NextDouble();
    }

    private static NDArray Random(Random rng, params int[] shape)
    {
        var v = new float[shape.Aggregate(1, (p, d) => p * d)];
        for (int i = 0; i < v.Length; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return new NDArray(DType.Float32, shape, v);
    }

    [Benchmark] public void Gemm1024() => Gemm.Sgemm(false, false, 1024, 1024, 1024, 1f, a, 1024, b, 1024, 0f, c, 1024);
    /// <summary>The book's conv2 (32→64, 3×3) at batch 32, by Winograd F(4×4,3×3) (the default), F(2×2,3×3) and im2col.</summary>
    [Benchmark] public NDArray Conv2Forward() => Conv.Forward(x, w, conv, y2);
    [Benchmark] public NDArray Conv2DataGrad() => Conv.Transposed(dy, w, conv, [0, 0], dx2);
    [Benchmark] public NDArray Conv2FilterGrad() => Conv.FilterGrad(x, dy, conv, 3, 3, dw2);
    [Benchmark] public NDArray Conv2Forward2x2() => Conv.Forward(x, w, conv, y2, ConvAlgorithm.Winograd2x2);
    [Benchmark] public NDArray Conv2DataGrad2x2() => Conv.Transposed(dy, w, conv, [0, 0], dx2, ConvAlgorithm.Winograd2x2);
    [Benchmark] public NDArray Conv2FilterGrad2x2() => Conv.FilterGrad(x, dy, conv, 3, 3, dw2, ConvAlgorithm.Winograd2x2);
    [Benchmark] public NDArray Conv2ForwardIm2Col() => Conv.Forward(x, w, conv, y2, ConvAlgorithm.Im2Col);
    [Benchmark] public NDArray Conv2DataGradIm2Col() => Conv.Transposed(dy, w, conv, [0, 0], dx2, ConvAlgorithm.Im2Col);
    [Benchmark] public NDArray Conv2FilterGradIm2Col() => Conv.FilterGrad(x, dy, conv, 3, 3, dw2, ConvAlgorithm.Im2Col);
    /// <summary>The book's conv1 (one channel in): direct, and its filter gradient.</summary>
    [Benchmark] public NDArray Conv1Forward() => Conv.Forward(images, w1, conv, y1);
    [Benchmark] public NDArray Conv1FilterGrad() => Conv.FilterGrad(images, dy1, conv, 3, 3, dw1);
    /// <summary>An LSTM's recurrent weight gradient over 27 steps at batch 64: one transA GEMM, K = 1,728.</summary>
    [Benchmark] public void GemmRecurrentWeightGrad() => Gemm.Sgemm(true, false, 512, 128, 1728, 1f, stackedGates, 512, stackedH, 128, 0f, recurrentGrad, 128);
    [Benchmark] public NDArray MaxPool() => Pool.Forward(pooled, pool);
    [Benchmark] public NDArray MaxPoolGrad() => Pool.Backward(pooled, poolGrad, pool, poolDx);
    /// <summary>The CNN's fc1 at batch 1: the unpacked GEMV path.</summary>
    [Benchmark] public NDArray Fc1Batch1() => MatMul.Forward(fc1In, fc1W, new MatMulOp(false, true), fc1Out);
    [Benchmark] public NDArray LogSoftmax() => Softmax.Forward(logits, 1, log: true);
    /// <summary>An LSTM gate's gradient: the pad that undoes a slice of the gate matrix.</summary>
    [Benchmark] public NDArray PadGateGrad() => Shaping.Pad(gatesGrad, new PadOp([0, 0, 128, 256]), padded);
    [Benchmark] public NDArray SliceGate() => Shaping.Slice(gates, new SliceOp(1, 128, 128));
    [Benchmark] public void VectorExp() { for (int j = 0; j < row.Length; j += 16) VExp.Exp(Vector512.LoadUnsafe(ref row[0], (nuint)j)).StoreUnsafe(ref rowOut[0], (nuint)j); }
    [Benchmark] public void VectorLog() { for (int j = 0; j < row.Length; j += 16) VExp.Log(Vector512.Abs(Vector512.LoadUnsafe(ref row[0], (nuint)j))).StoreUnsafe(ref rowOut[0], (nuint)j); }
    [Benchmark]
    public void VectorTanh()
    {
        for (int j = 0; j < row.Length; j += 16) VExp.Tanh(Vector512.LoadUnsafe(ref row[0], (nuint)j)).StoreUnsafe(ref rowOut[0], (nuint)j);
    }
}
