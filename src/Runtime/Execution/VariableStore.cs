namespace GraphNet.Runtime;

/// <summary>
/// Where variables live when a device (a GPU) holds the newer value: the store asks it for the
/// value when the host reads the variable.
/// </summary>
public interface IVariableDevice
{
    /// <summary>Copies a variable's device value to the host.</summary>
    NDArray Download(string name);
}

/// <summary>
/// The values of a graph's variables, by variable name. Lives in a session. With a device
/// backend the device may hold a newer value than the host; reads then copy it back first,
/// and host writes bump the variable's version so the device uploads it again.
/// </summary>
public sealed class VariableStore
{
    private readonly Dictionary<string, NDArray> values = [];
    private readonly Dictionary<string, long> versions = [];
    private readonly HashSet<string> newerOnDevice = [];
    private long clock;

    /// <summary>The device holding newer values, if any (set by a device backend).</summary>
    public IVariableDevice? Device { get; set; }

    public bool IsInitialized(string name) => values.ContainsKey(name);

    /// <summary>Every value, copied back from the device first where it is newer there.</summary>
    public IReadOnlyDictionary<string, NDArray> Values
    {
        get { foreach (var n in newerOnDevice.ToArray()) Get(n); return values; }
    }

    public NDArray Get(string name)
    {
        if (newerOnDevice.Remove(name)) values[name] = Device!.Download(name);
        return values.TryGetValue(name, out var v) ? v
            : throw new GraphException($"variable '{name}' is not initialized; run session.InitializeVariables() after adding variables, or restore a checkpoint");
    }

    public void Set(string name, NDArray value)
    {
        values[name] = value;
        newerOnDevice.Remove(name);
        versions[name] = ++clock;
    }

    /// <summary>Changes with every host write of the variable (devices compare it with what they uploaded).</summary>
    public long Version(string name) => versions.GetValueOrDefault(name);

    /// <summary>A device wrote the variable: the host value is stale until the next read.</summary>
    public void MarkNewerOnDevice(string name) => newerOnDevice.Add(name);

    /// <summary>The host value as it is, without a copy from the device (for uploading it).</summary>
    public NDArray HostValue(string name) => values[name];

    /// <summary>A copy of the store that shares the (never mutated in place) arrays, for dry runs.</summary>
    public VariableStore Snapshot()
    {
        _ = Values;
        var copy = new VariableStore();
        foreach (var (k, v) in values) copy.values[k] = v;
        return copy;
    }

    /// <summary>Gives every variable that has no value yet its initial value. Returns how many were set.</summary>
    public int Initialize(Graph graph)
    {
        int count = 0;
        foreach (var node in graph.Variables)
        {
            var op = (VariableOp)node.Op;
            if (values.ContainsKey(op.VarName) || op.Initializer is null) continue;
            var shape = op.Type.Shape.ToArray();
            if (op.Type.Shape.IsSymbolic) throw new GraphException($"variable '{op.VarName}' has a symbolic shape {op.Type.Shape}; variables need static shapes");
            var key = CounterRng.Key((ulong)graph.Seed, CounterRng.Hash(op.VarName));
            Set(op.VarName, op.Initializer.Create(op.Type.DType, shape, key));
            count++;
        }
        return count;
    }
}
