namespace GraphNet;

/// <summary>Raised by shape and dtype rules; <see cref="Graph"/> adds the node, op and source line.</summary>
public class ShapeException(string message) : Exception(message);

/// <summary>An error in building or running a graph, naming the node and the user's source line.</summary>
public class GraphException(string message, Exception? inner = null) : Exception(message, inner);
