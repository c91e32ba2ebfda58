using GraphNet.Runtime.Devices;
using GraphNet.Runtime.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GraphNet.Compiler.Ilgpu;

/// <summary>What generated ILGPU code sees during one step: the batch size, the stream and every buffer.</summary>
public sealed class DeviceContext
{
    internal DeviceContext(Accelerator accelerator) { Accelerator = accelerator; Stream = accelerator.DefaultStream; }

    public Accelerator Accelerator { get; }
    public AcceleratorStream Stream { get; }
    /// <summary>The run-time batch size N.</summary>
    public int Batch { get; internal set; }
    /// <summary>Device buffers by storage index (feeds, variables, constants, slots, variables' second buffers).</summary>
    internal MemoryBuffer[] B { get; set; } = [];
    /// <summary>Host arrays of feeds and constants by storage index (flags and labels are read there).</summary>
    internal Array?[] Host { get; set; } = [];
    internal long RunCounter { get; set; }
    internal int GraphSeed { get; set; }
    internal Action<int> CallKernel { get; set; } = _ => throw new InvalidOperationException();
    internal Action<int>? OnBegin { get; set; }
    internal Action<int>? OnEnd { get; set; }

    public ArrayView<float> F32(int i) => DeviceBuffers.View<float>(B[i]);
    public ArrayView<double> F64(int i) => DeviceBuffers.View<double>(B[i]);
    public ArrayView<int> I32(int i) => DeviceBuffers.View<int>(B[i]);
    public ArrayView<long> I64(int i) => DeviceBuffers.View<long>(B[i]);
    public ArrayView<byte> U8(int i) => DeviceBuffers.View<byte>(B[i]);

    /// <summary>Threads to launch for a grid-strided kernel over size elements: no more than the device runs at once.</summary>
    public int Extent(long size) => Devices.Extent(Accelerator, size);

    /// <summary>A bool scalar (dropout's training switch): from the host feed, else copied from the device.</summary>
    public bool ReadBool(int i)
    {
        if (Host[i] is bool[] h) return h[0];
        Accelerator.Synchronize();
        var one = new byte[1];
        U8(i).SubView(0, 1).CopyToCPU(one);
        return one[0] != 0;
    }

    /// <summary>Checks one_hot's labels where the host has them (feeds and constants), with the reference's message.</summary>
    public void CheckLabels(int i, int depth)
    {
        if (Host[i] is long[] labels) VMath.CheckIndices(labels, depth);
    }

    /// <summary>The dropout key of an op's seed in this run (the same masks as every other backend).</summary>
    public ulong DropoutKey(int seed) => DropoutOp.Key(GraphSeed, seed, RunCounter);

    /// <summary>Runs a library or reference kernel by its index in the schedule.</summary>
    public void Call(int kernel) => CallKernel(kernel);

    public void Begin(int kernel) => OnBegin?.Invoke(kernel);
    public void End(int kernel) => OnEnd?.Invoke(kernel);
}

/// <summary>The base class of generated ILGPU code: loads its kernels on an accelerator, then launches them in order.</summary>
public abstract class DeviceStep
{
    public abstract void Load(Accelerator accelerator);
    public abstract void Run(DeviceContext c);
}
