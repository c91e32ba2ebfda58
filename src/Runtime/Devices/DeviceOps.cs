using System.Runtime.CompilerServices;
using ILGPU;

namespace GraphNet.Runtime.Devices;

/// <summary>
/// The device handler for float: the scalar primitives as ILGPU compiles them (MathF becomes the
/// device's intrinsics through ILGPU.Algorithms). Generated ILGPU kernels call
/// <see cref="Unary{TF}"/> and <see cref="Binary{TF}"/>, so a table entry's formula reaches the
/// GPU as the same code every other backend runs. Max and Min are spelled out: CUDA's fmaxf
/// returns the operand that is not NaN, PyTorch's maximum propagates NaN.
/// </summary>
public readonly struct DeviceOps32 : IScalarOps<float, bool>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Unary<TF>(float x, float p) where TF : IUnaryFormula => TF.Apply<float, bool, DeviceOps32>(new(x), new(p)).Value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Binary<TF>(float a, float b, float p) where TF : IBinaryFormula =>
        TF.Apply<float, bool, DeviceOps32>(new(a), new(b), new(p)).Value;

    public static float Const(double c) => (float)c;
    public static float Add(float a, float b) => a + b;
    public static float Sub(float a, float b) => a - b;
    public static float Mul(float a, float b) => a * b;
    public static float Div(float a, float b) => a / b;
    public static float Neg(float a) => -a;
    public static float Abs(float a) => MathF.Abs(a);
    public static float Sqrt(float a) => MathF.Sqrt(a);
    public static float Exp(float a) => MathF.Exp(a);
    public static float Log(float a) => MathF.Log(a);
    public static float Tanh(float a) => MathF.Tanh(a);
    public static float Pow(float a, float b) => MathF.Pow(a, b);
    // Equal values: max(−0, +0) is +0 and min is −0, so the sign bit decides which to return.
    public static float Max(float a, float b) => float.IsNaN(a) ? a : float.IsNaN(b) ? b : a > b ? a : b > a ? b : Negative(a) ? b : a;
    public static float Min(float a, float b) => float.IsNaN(a) ? a : float.IsNaN(b) ? b : a < b ? a : b < a ? b : Negative(a) ? a : b;
    public static bool Equal(float a, float b) => a == b;
    public static bool NotEqual(float a, float b) => a != b;
    public static bool Less(float a, float b) => a < b;
    public static bool LessEqual(float a, float b) => a <= b;
    public static bool Greater(float a, float b) => a > b;
    public static bool GreaterEqual(float a, float b) => a >= b;
    public static float Select(bool m, float a, float b) => m ? a : b;
    private static bool Negative(float a) => (Interop.FloatAsInt(a) >> 31) != 0;
}

/// <summary>The device handler for double (see <see cref="DeviceOps32"/>).</summary>
public readonly struct DeviceOps64 : IScalarOps<double, bool>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Unary<TF>(double x, double p) where TF : IUnaryFormula => TF.Apply<double, bool, DeviceOps64>(new(x), new(p)).Value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Binary<TF>(double a, double b, double p) where TF : IBinaryFormula =>
        TF.Apply<double, bool, DeviceOps64>(new(a), new(b), new(p)).Value;

    public static double Const(double c) => c;
    public static double Add(double a, double b) => a + b;
    public static double Sub(double a, double b) => a - b;
    public static double Mul(double a, double b) => a * b;
    public static double Div(double a, double b) => a / b;
    public static double Neg(double a) => -a;
    public static double Abs(double a) => Math.Abs(a);
    public static double Sqrt(double a) => Math.Sqrt(a);
    public static double Exp(double a) => Math.Exp(a);
    public static double Log(double a) => Math.Log(a);
    public static double Tanh(double a) => Math.Tanh(a);
    public static double Pow(double a, double b) => Math.Pow(a, b);
    public static double Max(double a, double b) => double.IsNaN(a) ? a : double.IsNaN(b) ? b : a > b ? a : b > a ? b : Negative(a) ? b : a;
    public static double Min(double a, double b) => double.IsNaN(a) ? a : double.IsNaN(b) ? b : a < b ? a : b < a ? b : Negative(a) ? a : b;
    public static bool Equal(double a, double b) => a == b;
    public static bool NotEqual(double a, double b) => a != b;
    public static bool Less(double a, double b) => a < b;
    public static bool LessEqual(double a, double b) => a <= b;
    public static bool Greater(double a, double b) => a > b;
    public static bool GreaterEqual(double a, double b) => a >= b;
    public static double Select(bool m, double a, double b) => m ? a : b;
    private static bool Negative(double a) => (Interop.FloatAsInt(a) >> 63) != 0;
}
