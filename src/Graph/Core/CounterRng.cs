namespace GraphNet;

/// <summary>
/// Counter-based random numbers: every draw is a pure function of (seed, stream, index), so the
/// interpreter, compiled code and eager mode draw the same numbers in any order or thread.
/// </summary>
public static class CounterRng
{
    /// <summary>SplitMix64's finalizer: a bijective 64-bit mix with good avalanche.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The key of a stream: combine a seed with a counter such as the run number.</summary>
    public static ulong Key(ulong seed, ulong stream) => Mix(Mix(seed + 0x9E3779B97F4A7C15UL) ^ (stream * 0xD6E8FEB86659FD93UL));

    public static ulong Bits(ulong key, ulong index) => Mix(key ^ Mix(index + 0x632BE59BD9B4E019UL));

    /// <summary>Uniform in [0, 1) with 24 random bits: exactly representable in float.</summary>
    public static float Uniform(ulong key, ulong index) => (Bits(key, index) >> 40) * (1.0f / (1 << 24));

    /// <summary>Standard normal by Box-Muller from two uniforms.</summary>
    public static double Normal(ulong key, ulong index)
    {
        ulong b = Bits(key, index);
        double u1 = ((b >> 11) + 1.0) / (1UL << 53);
        double u2 = Uniform(key, index ^ 0x5555555555555555UL);
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>A stable 64-bit hash of a string (names key variable initializers).</summary>
    public static ulong Hash(string s)
    {
        ulong h = 1469598103934665603UL;
        foreach (char c in s) { h ^= c; h *= 1099511628211UL; }
        return Mix(h);
    }
}
