using System.Runtime.CompilerServices;

namespace GraphNet.Runtime;

/// <summary>
/// Arrays of an eager step's values, reused by the next steps (the role of PyTorch's caching
/// allocator): a training step makes the same values in the same order every time, so after
/// the first step every op gets an array that was just freed, already paged in and often still
/// in cache, and the garbage collector sees no large allocations. Arrays come back dirty: the
/// kernels that take them write every element.
/// </summary>
public sealed class BufferPool
{
    private readonly Dictionary<(Type, int), Stack<Array>> free = [];
    private readonly HashSet<Array> seen = new(ReferenceEqualityComparer.Instance);

    /// <summary>Arrays handed back and not yet taken again.</summary>
    public int Count { get; private set; }

    /// <summary>An array for a value of this type and shape: a returned one if there is one, else a new one.</summary>
    public NDArray Rent(DType dtype, int[] shape)
    {
        int size = checked((int)NDArray.SizeOf(shape));
        if (free.TryGetValue((dtype.ClrType(), size), out var stack) && stack.TryPop(out var a))
        {
            Count--;
            return new NDArray(dtype, shape, a);
        }
        return NDArray.Zeros(dtype, shape);
    }

    /// <summary>Hands arrays back, each at most once (views share their source's array), except the ones in <paramref name="keep"/>.</summary>
    public void Return(IEnumerable<Array> arrays, IReadOnlySet<Array> keep)
    {
        seen.Clear();
        foreach (var a in arrays)
        {
            if (a.Length == 0 || keep.Contains(a) || !seen.Add(a)) continue;
            var key = (a.GetType().GetElementType()!, a.Length);
            if (!free.TryGetValue(key, out var stack)) free[key] = stack = new Stack<Array>();
            stack.Push(a);
            Count++;
        }
    }
}
