using ILGPU.Runtime;

namespace GraphNet.Runtime.Devices;

/// <summary>
/// A session's variables on an accelerator: each has a current buffer and a second buffer that
/// a step writes its new value into; the two swap when the step ends. The host store's version
/// says when the host value changed (initialization, SetVariable, a restored checkpoint) and
/// must be uploaded; after a step the device value is the newer one, copied back only when
/// the host reads it (GetVariable, a checkpoint save).
/// </summary>
public sealed class DeviceVariables : IVariableDevice, IDisposable
{
    private readonly Accelerator accelerator;
    private readonly VariableStore store;

    public DeviceVariables(Accelerator accelerator, VariableStore store) => (this.accelerator, this.store) = (accelerator, store);

    private sealed class Entry
    {
        public required MemoryBuffer Current;
        public MemoryBuffer? Next;
        public long Version;
        public required TensorType Type;
    }

    private readonly Dictionary<string, Entry> entries = [];

    public Accelerator Accelerator => accelerator;

    /// <summary>The variable's device buffer, uploading the host value when it changed since the last upload.</summary>
    public MemoryBuffer Current(string name, TensorType type)
    {
        if (!entries.TryGetValue(name, out var e))
        {
            _ = store.Get(name); // names an uninitialized variable clearly
            entries[name] = e = new Entry { Current = DeviceBuffers.Allocate(accelerator, type.DType, type.Shape.StaticSize), Type = type, Version = -1 };
        }
        long version = store.Version(name);
        if (e.Version != version)
        {
            DeviceBuffers.Upload(e.Current, store.HostValue(name).Data);
            e.Version = version;
        }
        return e.Current;
    }

    /// <summary>The buffer a step writes the variable's new value into.</summary>
    public MemoryBuffer Next(string name) =>
        entries[name].Next ??= DeviceBuffers.Allocate(accelerator, entries[name].Type.DType, entries[name].Type.Shape.StaticSize);

    /// <summary>The step ended: the new value becomes current, and the host copy is stale.</summary>
    public void Commit(string name)
    {
        var e = entries[name];
        (e.Current, e.Next) = (e.Next!, e.Current);
        store.MarkNewerOnDevice(name);
    }

    public NDArray Download(string name)
    {
        var e = entries[name];
        accelerator.Synchronize();
        return DeviceBuffers.Download(e.Current, e.Type.DType, e.Type.Shape.ToArray());
    }

    public void Dispose()
    {
        _ = store.Values; // bring every device value home before the buffers go
        store.Device = null;
        foreach (var e in entries.Values) { e.Current.Dispose(); e.Next?.Dispose(); }
        entries.Clear();
    }
}
