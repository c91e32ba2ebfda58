namespace GraphNet.Runtime.Kernels;

/// <summary>What a planted kernel bug does to the output.</summary>
internal enum FaultKind
{
    /// <summary>Every value 1% too large, as a wrong constant would make it.</summary>
    Scaled,
    /// <summary>Every element holds its neighbour's value, as an index off by one would.</summary>
    OffByOne,
    /// <summary>The last element keeps what the buffer held before, as a missed tail of a loop would.</summary>
    DroppedWrite,
}

/// <summary>
/// A deliberately wrong library kernel, for the fuzzer's mutation check: while planted on a
/// thread, the library kernels of one op type corrupt their output there as a bug inside them
/// would, for every caller at once (the interpreter, eager mode and compiled code all call the
/// same kernels, which is why comparing them with each other cannot see such a bug and the fuzzer
/// judges them against the reference evaluation); eager mode's own pointwise and reduction kernels
/// take faults too. Costs one thread-static read per library call when nothing is planted.
/// </summary>
internal sealed class PlantedFault(Type op, FaultKind kind) : IDisposable
{
    [ThreadStatic] private static PlantedFault? active;

    /// <summary>Whether a fault is planted on this thread (the library's callers test this before building a closure).</summary>
    public static bool Any => active is not null;

    public Type Op { get; } = op;
    public FaultKind Kind { get; } = kind;
    /// <summary>How many outputs it corrupted.</summary>
    public int Hits { get; private set; }

    /// <summary>Plants the fault on this thread until disposed.</summary>
    public static PlantedFault Plant(Type op, FaultKind kind) =>
        active = new PlantedFault(op, kind);

    public void Dispose() { if (ReferenceEquals(active, this)) active = null; }

    /// <summary>Runs <paramref name="kernel"/> for <paramref name="node"/>, corrupting its output if a fault is planted for that op.</summary>
    public static NDArray? Around(Node node, NDArray? into, Func<NDArray?> kernel)
    {
        var fault = active;
        if (fault is null || node.Op.GetType() != fault.Op) return kernel();
        object? before = into is { Size: > 0 } ? into.Data.GetValue(into.Size - 1) : null;
        var y = kernel();
        if (y is not { Size: > 1 }) return y;
        fault.Hits++;
        switch (fault.Kind)
        {
            case FaultKind.Scaled when y.Data is float[] f:
                for (int i = 0; i < y.Size; i++) f[i] *= 1.01f;
                break;
            case FaultKind.OffByOne:
                Array.Copy(y.Data, 0, y.Data, 1, y.Size - 1);
                break;
            case FaultKind.DroppedWrite:
                y.Data.SetValue(before ?? Activator.CreateInstance(y.Data.GetType().GetElementType()!), y.Size - 1);
                break;
        }
        return y;
    }
}
