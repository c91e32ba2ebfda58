namespace GraphNet;

/// <summary>
/// The weights of 1-D linear resampling from <c>inSize</c> to <c>outSize</c> samples, as a dense
/// [outSize, inSize] matrix: what bilinear interpolation applies along each axis.
/// </summary>
public static class Resampling
{
    /// <summary>
    /// PyTorch's <c>interpolate(mode='linear'/'bilinear')</c>: output i reads source position
    /// (i + 0.5)·scale − 0.5 (clamped at 0), or i·(in − 1)/(out − 1) with <paramref name="alignCorners"/>,
    /// from its two neighbours. <paramref name="scale"/> is in/out unless given (1/scale_factor).
    /// With <paramref name="antialias"/> a shrink widens the triangle filter to the scale, as PIL
    /// and torchvision's Resize do (a stretch is the same either way).
    /// </summary>
    public static double[,] Linear(int inSize, int outSize, bool alignCorners = false, double? scale = null, bool antialias = false)
    {
        if (inSize < 1 || outSize < 1) throw new ArgumentException($"resampling needs positive sizes, got {inSize} -> {outSize}");
        var m = new double[outSize, inSize];
        double s = scale ?? (double)inSize / outSize;
        if (antialias && !alignCorners && s > 1)
        {
            for (int i = 0; i < outSize; i++)
            {
                double center = (i + 0.5) * s, total = 0;
                int lo = Math.Max(0, (int)Math.Floor(center - s)), hi = Math.Min(inSize, (int)Math.Ceiling(center + s));
                for (int j = lo; j < hi; j++) total += m[i, j] = Math.Max(0, 1 - Math.Abs((j + 0.5 - center) / s));
                for (int j = lo; j < hi; j++) m[i, j] /= total;
            }
            return m;
        }
        for (int i = 0; i < outSize; i++)
        {
            double src = alignCorners ? (outSize > 1 ? i * (inSize - 1.0) / (outSize - 1) : 0) : Math.Max(0, (i + 0.5) * s - 0.5);
            int i0 = Math.Min((int)Math.Floor(src), inSize - 1), i1 = Math.Min(i0 + 1, inSize - 1);
            double l1 = src - i0;
            m[i, i0] += 1 - l1;
            m[i, i1] += l1;
        }
        return m;
    }

    /// <summary>PyTorch's legacy <c>mode='nearest'</c>: output i copies source ⌊i·scale⌋.</summary>
    public static double[,] Nearest(int inSize, int outSize, double? scale = null)
    {
        var m = new double[outSize, inSize];
        double s = scale ?? (double)inSize / outSize;
        for (int i = 0; i < outSize; i++) m[i, Math.Min((int)Math.Floor(i * s), inSize - 1)] = 1;
        return m;
    }
}
