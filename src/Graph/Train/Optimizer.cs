namespace GraphNet.Train;

/// <summary>
/// An optimizer adds its slot variables and update ops to the graph. <see cref="Minimize"/>
/// returns the train op; running it applies one step and yields the new step count.
/// Update rules follow PyTorch's implementations of the published algorithms.
/// </summary>
public abstract class Optimizer(string name)
{
    public string Name { get; } = name;

    /// <summary>The slot and step variables this optimizer made, by name: eager code calls Minimize every step and gets the same ones back.</summary>
    private readonly Dictionary<string, Tensor> owned = [];

    /// <summary>The learning rate, printed by examples and reports.</summary>
    public abstract double LearningRate { get; }

    /// <summary>Differentiates <paramref name="loss"/> and adds one update for every trainable variable.</summary>
    public Tensor Minimize(Tensor loss, IEnumerable<Tensor>? variables = null)
    {
        var g = loss.Graph;
        if (loss.Rank != 0)
            throw new GraphException($"Minimize: the loss '{loss.Name}' is {loss.Type}, not a scalar (at {loss.Node.Source}); " +
                "reduce it with F.Mean or F.Sum first, as PyTorch's backward() needs a scalar too");
        var vars = (variables ?? g.TrainableVariables).ToList();
        if (vars.Count == 0) throw new GraphException("Minimize: the graph has no trainable variables");
        var grads = F.Gradients([loss], vars);
        using var _ = g.NameScope(Name);
        // The step count t starts at 0; this step is t+1 (Adam's bias correction uses it).
        var step = Own(g, $"{Name}.step", [], 0, loss.DType);
        var t = step + 1.0;
        var updates = new List<Tensor> { Assign(step, t) };
        for (int i = 0; i < vars.Count; i++)
        {
            if (grads[i] is not { } grad) continue;
            updates.Add(Assign(vars[i], Update(vars[i], grad, t)));
        }
        return g.Add1(new GroupOp(), updates, "train");
    }

    /// <summary>The new value of <paramref name="p"/>; slot updates are made with <see cref="Assign"/>.</summary>
    protected abstract Tensor Update(Tensor p, Tensor grad, Tensor t);

    protected static Tensor Assign(Tensor variable, Tensor value) => F.Assign(variable, value);

    /// <summary>A state tensor kept per parameter, named like PyTorch's optimizer state ("conv1.weight.exp_avg").</summary>
    protected Tensor Slot(Tensor p, string slot, double init = 0) => Own(p.Graph, $"{p.Node.Name}.{slot}", p.Shape.ToArray(), init, p.DType);

    /// <summary>This optimizer's variable of that name: made on first use, the same tensor afterwards.</summary>
    private Tensor Own(Graph g, string varName, int[] shape, double init, DType dtype)
    {
        if (owned.TryGetValue(varName, out var mine)) return mine;
        if (g.HasVariable(varName))
            throw new GraphException($"a variable named '{varName}' already exists in this graph: another optimizer named '{Name}' " +
                "(or one updating the same parameters) made it; give each optimizer its own name, " +
                $"e.g. new {GetType().Name}(..., name: \"{Name}2\")");
        return owned[varName] = g.Variable(varName, shape, init == 0 ? Initializer.Zeros : Initializer.Constant(init), dtype, trainable: false);
    }

    /// <summary>Writes a slot and returns its new value for use in the same step.</summary>
    protected static Tensor Set(Tensor slot, Tensor value, List<Tensor> effects) { effects.Add(Assign(slot, value)); return value; }
}
