namespace GraphNet.Train;

/// <summary>
/// An optimizer adds its slot variables and update ops to the graph. <see cref="Minimize"/>
/// returns the train op; running it applies one step and yields the new step count.
/// Update rules follow PyTorch's implementations of the published algorithms.
/// </summary>
public abstract class Optimizer(string name, double lr)
{
    public string Name { get; } = name;

    /// <summary>
    /// The learning rate. It may change between steps (a scheduler sets it): the update reads it
    /// through a host scalar (see <see cref="Graph.HostScalar"/>), so a new value needs no recompilation.
    /// </summary>
    public double LearningRate
    {
        get => learningRate;
        set
        {
            if (!(value >= 0)) throw new GraphException($"optimizer '{Name}': learning rate {value} must be a non-negative number");
            learningRate = value;
        }
    }
    private double learningRate = lr >= 0 ? lr : throw new GraphException($"optimizer '{name}': learning rate {lr} must be a non-negative number");

    private readonly Dictionary<(Graph, DType), Tensor> lrTensors = [];

    /// <summary>The learning rate as a scalar of <paramref name="dtype"/> in the graph of <paramref name="like"/>.</summary>
    protected Tensor Lr(Tensor like, DType? dtype = null)
    {
        var g = like.Graph; var t = dtype ?? like.DType;
        if (g.Eager is not null) return g.Scalar(LearningRate, t);
        if (lrTensors.TryGetValue((g, t), out var lr)) return lr;
        if (!lrTensors.TryGetValue((g, DType.Float64), out var lr64))
            lrTensors[(g, DType.Float64)] = lr64 = g.HostScalar($"{Name}.lr", () => LearningRate);
        return lrTensors[(g, t)] = F.Cast(lr64, t);
    }

    /// <summary>The slot and step variables this optimizer made, by name: eager code calls Minimize every step and gets the same ones back.</summary>
    private readonly Dictionary<string, Tensor> owned = [];

    /// <summary>
    /// Differentiates <paramref name="loss"/> and adds one update for every trainable variable (or
    /// those given), the gradients clamped to ±<paramref name="clipGradValue"/> and then scaled to a
    /// joint norm of at most <paramref name="clipGradNorm"/> when given (PyTorch's clip_grad_value_ and
    /// clip_grad_norm_ between backward() and step()).
    /// </summary>
    public Tensor Minimize(Tensor loss, IEnumerable<Tensor>? variables = null, double? clipGradNorm = null, double? clipGradValue = null)
    {
        var g = loss.Graph;
        if (loss.Rank != 0)
            throw new GraphException($"Minimize: the loss '{loss.Name}' is {loss.Type}, not a scalar (at {loss.Node.Source}); " +
                "reduce it with F.Mean or F.Sum first, as PyTorch's backward() needs a scalar too");
        var vars = (variables ?? g.TrainableVariables).ToList();
        if (vars.Count == 0) throw new GraphException("Minimize: the graph has no trainable variables");
        var grads = F.Gradients([loss], vars);
        if (clipGradValue is { } v) grads = F.ClipGradValue(grads, v);
        if (clipGradNorm is { } n) grads = F.ClipGradNorm(grads, n).Clipped;
        var train = ApplyGradients(grads.Zip(vars).Where(p => p.First is not null).Select(p => (p.First!, p.Second)).ToList(), loss.DType);
        // The forward pass's own state updates (BatchNorm's running statistics) that read what the loss reads.
        var updates = ForwardUpdates(loss);
        return updates.Count == 0 ? train : g.Add1(new GroupOp(), [train, .. updates], "train_and_updates");
    }

    private static List<Tensor> ForwardUpdates(Tensor loss)
    {
        var g = loss.Graph;
        if (g.UpdateOps.Count == 0) return [];
        var reached = new HashSet<Node>();
        var stack = new Stack<Node>([loss.Node]);
        while (stack.Count > 0)
            if (stack.Pop() is var n && reached.Add(n)) foreach (var i in n.Inputs) stack.Push(i.Node);
        // An update belongs to this loss when the statistics it assigns are computed from a node the loss reads.
        var mine = g.UpdateOps.Where(u => u.Node.Inputs.Skip(1).Any(i => Reads(i.Node, reached))).ToList();
        // Several of one variable (a layer run twice): one assignment of the rules chained in the order they were made.
        var result = new List<Tensor>();
        foreach (var group in mine.GroupBy(u => g.UpdateRule(u).Variable))
        {
            if (group.Count() == 1) { result.Add(group.First()); continue; }
            var value = group.Key;
            foreach (var u in group) value = g.UpdateRule(u).Next(value);
            result.Add(F.Assign(group.Key, value));
        }
        return result;
    }

    private static bool Reads(Node n, HashSet<Node> reached)
    {
        var seen = new HashSet<Node>();
        var stack = new Stack<Node>([n]);
        while (stack.Count > 0)
        {
            var m = stack.Pop();
            if (reached.Contains(m) && m.Op is not (VariableOp or ConstantOp or PlaceholderOp)) return true;
            if (seen.Add(m)) foreach (var i in m.Inputs) stack.Push(i.Node);
        }
        return false;
    }

    /// <summary>
    /// One update of each variable by its gradient (TF1's apply_gradients): for gradients computed
    /// or changed by hand. Returns the train op.
    /// </summary>
    public Tensor ApplyGradients(IReadOnlyList<(Tensor Gradient, Tensor Variable)> pairs, DType stepType = DType.Float32)
    {
        if (pairs.Count == 0) throw new GraphException("ApplyGradients: no (gradient, variable) pairs");
        var g = pairs[0].Variable.Graph;
        foreach (var (grad, variable) in pairs)
        {
            if (variable.Node.Op is not VariableOp)
                throw new GraphException($"ApplyGradients: '{variable.Name}' is a {variable.Node.Op.Name}, not a variable");
            if (grad.Shape != variable.Shape)
                throw new GraphException($"ApplyGradients: the gradient for '{variable.Name}' is {grad.Shape}, the variable {variable.Shape}");
        }
        using var _ = g.NameScope(Name);
        // The step count t starts at 0; this step is t+1 (Adam's bias correction uses it).
        var step = Own(g, $"{Name}.step", [], 0, stepType);
        var t = step + 1.0;
        var updates = new List<Tensor> { Assign(step, t) };
        foreach (var (grad, variable) in pairs) updates.Add(Assign(variable, Update(variable, grad, t)));
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
