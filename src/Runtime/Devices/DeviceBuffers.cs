using ILGPU;
using ILGPU.Runtime;

namespace GraphNet.Runtime.Devices;

/// <summary>Typed device buffers for a tensor's dtype (bool is stored as one byte per element).</summary>
public static class DeviceBuffers
{
    public static MemoryBuffer Allocate(Accelerator a, DType t, long length)
    {
        length = Math.Max(1, length);
        return t switch
        {
            DType.Float32 => a.Allocate1D<float>(length), DType.Float64 => a.Allocate1D<double>(length),
            DType.Int32 => a.Allocate1D<int>(length), DType.Int64 => a.Allocate1D<long>(length), DType.Bool => a.Allocate1D<byte>(length),
            _ => throw new NotSupportedException($"the ILGPU backend cannot hold {t} tensors"),
        };
    }

    public static ArrayView<T> View<T>(MemoryBuffer b) where T : unmanaged => ((MemoryBuffer1D<T, Stride1D.Dense>)b).View;

    /// <summary>Copies host data into the start of a buffer.</summary>
    public static void Upload(MemoryBuffer b, Array data)
    {
        switch (data)
        {
            case float[] f: if (f.Length > 0) View<float>(b).SubView(0, f.Length).CopyFromCPU(f); break;
            case double[] d: if (d.Length > 0) View<double>(b).SubView(0, d.Length).CopyFromCPU(d); break;
            case int[] i: if (i.Length > 0) View<int>(b).SubView(0, i.Length).CopyFromCPU(i); break;
            case long[] l: if (l.Length > 0) View<long>(b).SubView(0, l.Length).CopyFromCPU(l); break;
            case bool[] z: if (z.Length > 0) View<byte>(b).SubView(0, z.Length).CopyFromCPU(z.Select(v => v ? (byte)1 : (byte)0).ToArray()); break;
            default: throw new NotSupportedException($"cannot upload {data.GetType().Name}");
        }
    }

    /// <summary>Copies the first elements of a buffer to a new host array of the tensor's type.</summary>
    public static NDArray Download(MemoryBuffer b, DType t, int[] shape)
    {
        int n = shape.Aggregate(1, (p, d) => p * d);
        Array data = t switch
        {
            DType.Float32 => Read<float>(b, n), DType.Float64 => Read<double>(b, n), DType.Int32 => Read<int>(b, n),
            DType.Int64 => Read<long>(b, n), DType.Bool => Read<byte>(b, n).Select(v => v != 0).ToArray(),
            _ => throw new NotSupportedException($"cannot download {t}"),
        };
        return new NDArray(t, shape, data);
    }

    private static T[] Read<T>(MemoryBuffer b, int n) where T : unmanaged
    {
        var host = new T[n];
        if (n > 0) View<T>(b).SubView(0, n).CopyToCPU(host);
        return host;
    }

    /// <summary>Copies n elements between buffers of the same type on the device.</summary>
    public static void Copy(MemoryBuffer from, MemoryBuffer to, DType t, long n)
    {
        if (n == 0) return;
        switch (t)
        {
            case DType.Float32: View<float>(from).SubView(0, n).CopyTo(View<float>(to).SubView(0, n)); break;
            case DType.Float64: View<double>(from).SubView(0, n).CopyTo(View<double>(to).SubView(0, n)); break;
            case DType.Int32: View<int>(from).SubView(0, n).CopyTo(View<int>(to).SubView(0, n)); break;
            case DType.Int64: View<long>(from).SubView(0, n).CopyTo(View<long>(to).SubView(0, n)); break;
            default: View<byte>(from).SubView(0, n).CopyTo(View<byte>(to).SubView(0, n)); break;
        }
    }
}
