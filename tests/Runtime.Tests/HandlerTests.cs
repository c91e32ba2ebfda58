using System.Runtime.Intrinsics;
using GraphNet.Runtime.Devices;
using GraphNet.Runtime.Kernels;
using GraphNet.Tests;

namespace GraphNet.Runtime.Tests;

/// <summary>
/// Every entry of the pointwise table through every handler (reference, 256- and 512-bit
/// vectors, device) at the edges of the number line: NaN, ±∞, ±0, ±1, denormals, huge values,
/// and values where exp overflows or underflows. The vector handlers run at both widths whatever
/// the machine runs natively (a Vector512 is two Vector256 halves on AVX2 machines).
/// </summary>
public class HandlerTests
{
    private sealed class Unary(float x, float p) : IUnaryDispatch<float[]>
    {
        public float[] Invoke<TF>() where TF : struct, IUnaryFormula => [
            Reference<float>.Unary<TF>(x, p),
            Simd256<float>.Unary<TF>(Vector256.Create(x), Vector256.Create(p))[3],
            Simd512<float>.Unary<TF>(Vector512.Create(x), Vector512.Create(p))[11],
            DeviceOps32.Unary<TF>(x, p),
        ];
    }

    private sealed class Binary(float a, float b, float p) : IBinaryDispatch<float[]>
    {
        public float[] Invoke<TF>() where TF : struct, IBinaryFormula => [
            Reference<float>.Binary<TF>(a, b, p),
            Simd256<float>.Binary<TF>(Vector256.Create(a), Vector256.Create(b), Vector256.Create(p))[5],
            Simd512<float>.Binary<TF>(Vector512.Create(a), Vector512.Create(b), Vector512.Create(p))[14],
            DeviceOps32.Binary<TF>(a, b, p),
        ];
    }

    private static readonly string[] Handlers = ["reference", "Simd256", "Simd512", "device"];

    private static void Check(string what, float[] results)
    {
        for (int h = 1; h < Handlers.Length; h++)
            Assert.True(Numerics.Agree(results[0], results[h]), $"{what}: {Handlers[0]} gives {results[0]:R}, {Handlers[h]} {results[h]:R}");
    }

    [Fact]
    public void EveryUnaryEntryAgreesOnEveryHandlerAtTheEdges()
    {
        foreach (var fn in Pointwise.Unary)
            foreach (var x in Numerics.Specials)
                Check($"{fn.Name}({x:R})", fn.Dispatch(new Unary(x, 0.01f)));
    }

    [Fact]
    public void EveryBinaryEntryAgreesOnEveryHandlerAtTheEdges()
    {
        foreach (var fn in Pointwise.Binary)
            foreach (var a in Numerics.Specials)
                foreach (var b in Numerics.Specials)
                    Check($"{fn.Name}({a:R}, {b:R})", fn.Dispatch(new Binary(a, b, 0.01f)));
    }

    [Fact]
    public void NanPropagatesAsInPyTorch()
    {
        // relu, maximum and minimum propagate NaN (PyTorch's clamp_min and maximum); sign(NaN) is 0 ((0 < x) - (x < 0)).
        Assert.True(float.IsNaN(Pointwise.Relu.Dispatch(new Unary(float.NaN, 0))[1]));
        Assert.True(float.IsNaN(Pointwise.Maximum.Dispatch(new Binary(1, float.NaN, 0))[2]));
        Assert.True(float.IsNaN(Pointwise.Minimum.Dispatch(new Binary(float.NaN, 1, 0))[3]));
        Assert.Equal(0f, Pointwise.Sign.Dispatch(new Unary(float.NaN, 0))[1]);
        // max(−0, +0) = +0 and min = −0, on the device handler too (CUDA's fmaxf would differ).
        Assert.Equal(0f, Pointwise.Maximum.Dispatch(new Binary(-0f, 0f, 0))[3]);
        Assert.False(float.IsNegative(Pointwise.Maximum.Dispatch(new Binary(-0f, 0f, 0))[3]));
        Assert.True(float.IsNegative(Pointwise.Minimum.Dispatch(new Binary(0f, -0f, 0))[3]));
        // relu's gradient is threshold_backward: dy where the output is not ≤ 0, so a NaN output passes dy.
        Assert.Equal(2f, Pointwise.ReluGrad.Dispatch(new Binary(2f, float.NaN, 0))[0]);
    }
}
