namespace GraphNet.Tests;

/// <summary>The edges of the number line that every backend must agree on, and what agreeing means there.</summary>
public static class Numerics
{
    /// <summary>NaN, ±∞, ±0, ±1, denormals, huge values, and values where exp overflows or underflows.</summary>
    public static readonly float[] Specials =
        [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 1f, -1f, 1e-40f, -1e-40f, 3e38f, -3e38f, 0.5f, -2.5f, 100f, -100f];

    /// <summary>Both NaN; or zeros and infinities exactly (their signs too); or finite values within rounding (and denormal spacing).</summary>
    public static bool Agree(double reference, double actual, double rtol = 4e-6)
    {
        if (double.IsNaN(reference) || double.IsNaN(actual)) return double.IsNaN(reference) && double.IsNaN(actual);
        if (reference == 0 || double.IsInfinity(reference) || actual == 0 || double.IsInfinity(actual))
            return reference.Equals(actual) || (Math.Abs(reference - actual) <= 1e-43 && double.IsNegative(reference) == double.IsNegative(actual));
        return Math.Abs(actual - reference) <= rtol * Math.Abs(reference) + 1e-43;
    }
}
