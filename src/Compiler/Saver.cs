using GraphNet.Runtime;

namespace GraphNet.Compiler;

/// <summary>
/// Checkpoints of a graph's variables (weights and optimizer slots, with PyTorch-style names
/// such as "conv1.weight" and "conv1.weight.exp_avg") as safetensors files.
/// </summary>
public static class Saver
{
    public static void Save(Session session, string path) => Save(session.Graph, session.Variables, path);
    public static void Restore(Session session, string path) => Restore(session.Graph, session.Variables, path);
    public static void Save(Executor executor, string path) => Save(executor.Graph, executor.Variables, path);
    public static void Restore(Executor executor, string path) => Restore(executor.Graph, executor.Variables, path);

    /// <summary>Saves every initialized variable. The write is atomic: a failed or killed save leaves the old file intact.</summary>
    public static void Save(Graph graph, VariableStore variables, string path)
    {
        var tensors = new Dictionary<string, NDArray>();
        foreach (var v in graph.Variables)
        {
            var name = ((VariableOp)v.Op).VarName;
            if (variables.IsInitialized(name)) tensors[name] = variables.Get(name);
        }
        SafeTensors.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["producer"] = "GraphNet" });
    }

    /// <summary>
    /// Loads a checkpoint into the variables. Nothing is changed unless every variable of the
    /// graph is in the file with its shape and dtype; otherwise one error lists every mismatch.
    /// </summary>
    public static void Restore(Graph graph, VariableStore variables, string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"checkpoint '{path}' does not exist", path);
        var (tensors, _) = SafeTensors.Read(path);
        var problems = new List<string>();
        var wanted = graph.Variables.Select(v => (VariableOp)v.Op).ToList();
        foreach (var v in wanted)
        {
            if (!tensors.TryGetValue(v.VarName, out var t)) { problems.Add($"'{v.VarName}' ({v.Type}) is missing from the file"); continue; }
            if (t.DType != v.Type.DType) problems.Add($"'{v.VarName}' is {t.DType.ShortName()} in the file but {v.Type.DType.ShortName()} in the graph");
            if (!t.Shape.SequenceEqual(v.Type.Shape.Dims)) problems.Add($"'{v.VarName}' has shape {t.ShapeString} in the file but {v.Type.Shape} in the graph");
        }
        foreach (var extra in tensors.Keys.Except(wanted.Select(v => v.VarName)).Order())
            problems.Add($"'{extra}' is in the file but not in the graph");
        if (problems.Count > 0)
            throw new GraphException($"checkpoint '{path}' does not match the graph ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}):\n  " + string.Join("\n  ", problems));
        foreach (var v in wanted) variables.Set(v.VarName, tensors[v.VarName]);
    }
}
