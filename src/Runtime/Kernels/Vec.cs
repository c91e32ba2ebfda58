using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GraphNet.Runtime.Kernels;

/// <summary>Small vectorized span helpers (Vector512 where the machine has it, else Vector256, then scalar).</summary>
public static class Vec
{
    /// <summary>dst = a + b elementwise (dst may alias a or b).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst)
    {
        int i = 0, n = dst.Length;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= n; i += 16)
                (Vector512.Create(a.Slice(i, 16)) + Vector512.Create(b.Slice(i, 16))).CopyTo(dst.Slice(i, 16));
        else if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8)
                (Vector256.Create(a.Slice(i, 8)) + Vector256.Create(b.Slice(i, 8))).CopyTo(dst.Slice(i, 8));
        for (; i < n; i++) dst[i] = a[i] + b[i];
    }
}
