namespace GraphNet.Runtime;

/// <summary>The values of a graph's variables, by variable name. Lives in a session.</summary>
public sealed class VariableStore
{
    private readonly Dictionary<string, NDArray> values = [];

    public bool IsInitialized(string name) => values.ContainsKey(name);
    public IReadOnlyDictionary<string, NDArray> Values => values;

    public NDArray Get(string name) => values.TryGetValue(name, out var v) ? v
        : throw new GraphException($"variable '{name}' is not initialized; run session.InitializeVariables() after adding variables, or restore a checkpoint");

    public void Set(string name, NDArray value) => values[name] = value;

    /// <summary>A copy of the store that shares the (never mutated in place) arrays, for dry runs.</summary>
    public VariableStore Snapshot()
    {
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
            values[op.VarName] = op.Initializer.Create(op.Type.DType, shape, key);
            count++;
        }
        return count;
    }
}
