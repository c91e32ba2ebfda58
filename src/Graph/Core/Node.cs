namespace GraphNet;

/// <summary>One op application in a graph. Immutable once added.</summary>
public sealed class Node
{
    internal Node(Graph graph, int id, Op op, Tensor[] inputs, TensorType[] outputs, string name, SourceLocation source, Node? forwardOf)
    {
        Graph = graph; Id = id; Op = op; Inputs = inputs; OutputTypes = outputs; Name = name; Source = source; ForwardOf = forwardOf;
        Outputs = outputs.Select((_, i) => new Tensor(this, i)).ToArray();
    }

    public Graph Graph { get; }
    /// <summary>Position in the graph; inputs always have smaller ids (topological order).</summary>
    public int Id { get; }
    public Op Op { get; }
    public IReadOnlyList<Tensor> Inputs { get; }
    public IReadOnlyList<TensorType> OutputTypes { get; }
    public IReadOnlyList<Tensor> Outputs { get; }
    public string Name { get; }
    /// <summary>The user code that made this node.</summary>
    public SourceLocation Source { get; }
    /// <summary>For backward nodes: the forward node whose gradient rule made this one.</summary>
    public Node? ForwardOf { get; }
    public bool IsBackward => ForwardOf is not null;

    /// <summary>"op 'name' (at file:line)": how errors name a node.</summary>
    public string Describe() => $"{Op.Name} '{Name}' (at {Source})";

    public override string ToString() => $"%{Id} {Op.Name} '{Name}'";
}
