using GraphNet.Nn;

namespace GraphNet.Runtime;

/// <summary>
/// A module's <c>state_dict</c>, as PyTorch's: its parameters and buffers by path ("conv1.weight",
/// "bn1.running_mean"), read from and written to the variable store that holds their values (a
/// session's or an eager context's), and as safetensors files. A PyTorch
/// <c>safetensors.torch.save_file(model.state_dict(), path)</c> loads into the same model here.
/// </summary>
public static class StateDicts
{
    // PyTorch's BatchNorm keeps a batch counter GraphNet does not (it only matters for momentum=None).
    private const string BatchCounter = "num_batches_tracked";

    /// <summary>The module's state: a copy of each value by its PyTorch name.</summary>
    public static Dictionary<string, NDArray> Get(Module model, VariableStore variables)
    {
        variables.Initialize(Graph(model));
        return model.StateDict().ToDictionary(e => e.Name, e => variables.Get(e.Variable.Node.VariableName()).Clone());
    }

    /// <summary>
    /// Loads <paramref name="state"/> into the module's variables. Nothing changes unless every key
    /// matches (strict: each entry of the module is there, and nothing else) with its shape; values of
    /// another float type are converted. One error lists every mismatch.
    /// </summary>
    public static void Load(Module model, VariableStore variables, IReadOnlyDictionary<string, NDArray> state, bool strict = true,
        string? source = null)
    {
        var entries = model.StateDict();
        var problems = new List<string>();
        foreach (var (name, v) in entries)
        {
            if (!state.TryGetValue(name, out var value)) { if (strict) problems.Add($"'{name}' {v.Shape} is missing"); continue; }
            if (!value.Shape.SequenceEqual(v.Shape.ToArray()))
                problems.Add($"'{name}' has shape {value.ShapeString} there but {v.Shape} in the model");
            else if (value.DType != v.DType && !(value.DType.IsFloat() && v.DType.IsFloat()))
                problems.Add($"'{name}' is {value.DType.ShortName()} there but {v.DType.ShortName()} in the model");
        }
        if (strict)
            foreach (var extra in state.Keys.Except(entries.Select(e => e.Name)).Where(k => !k.EndsWith(BatchCounter)).Order())
                problems.Add($"'{extra}' is not in the model");
        if (problems.Count > 0)
            throw new GraphException($"the state dict{(source is null ? "" : $" '{source}'")} does not match {model.GetType().Name} " +
                $"({problems.Count} problem{(problems.Count == 1 ? "" : "s")}):\n  " + string.Join("\n  ", problems));
        foreach (var (name, v) in entries)
            if (state.TryGetValue(name, out var value)) variables.Set(v.Node.VariableName(), CastOp.Convert(value, v.DType).Clone());
    }

    /// <summary>Saves the module's state as safetensors (atomically: a failed save leaves the old file intact).</summary>
    public static void Save(Module model, VariableStore variables, string path) =>
        SafeTensors.Write(path, Get(model, variables), new Dictionary<string, string> { ["format"] = "pt", ["producer"] = "GraphNet" });

    /// <summary>Loads a safetensors state dict (GraphNet's or PyTorch's) into the module.</summary>
    public static void Load(Module model, VariableStore variables, string path, bool strict = true)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"state dict '{path}' does not exist", path);
        Load(model, variables, SafeTensors.Read(path).Tensors, strict, path);
    }

    private static Graph Graph(Module model) => model.IsBound ? model.Graph
        : throw new GraphException($"{model.GetType().Name} has not run yet, so it has no variables to read");

    private static string VariableName(this Node node) => ((VariableOp)node.Op).VarName;
}
