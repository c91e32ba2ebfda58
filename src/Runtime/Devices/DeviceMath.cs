namespace GraphNet.Runtime.Devices;

/// <summary>Scalar helpers for generated ILGPU kernels (the pointwise table's C# names VMath's generic versions).</summary>
public static class DeviceMath
{
    /// <summary>log(1 + exp(x)), stable for both signs (VMath.Softplus's formula).</summary>
    public static float Softplus(float x) => x > 0f ? x + MathF.Log(1f + MathF.Exp(-x)) : MathF.Log(1f + MathF.Exp(x));

    public static double Softplus(double x) => x > 0 ? x + Math.Log(1 + Math.Exp(-x)) : Math.Log(1 + Math.Exp(x));
}
