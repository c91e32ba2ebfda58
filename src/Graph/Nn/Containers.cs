using System.Collections;

namespace GraphNet.Nn;

/// <summary>
/// Modules applied one after another, as torch.nn.Sequential: its layers are named "0", "1", ...
/// ("main.0.weight"), and each must define <see cref="Module.Forward(Tensor)"/>.
/// </summary>
public sealed class Sequential : Module, IReadOnlyList<Module>
{
    private readonly List<(string Name, Module Child)> layers;

    public Sequential(params Module[] layers) => this.layers = layers.Select((m, i) => (i.ToString(), m)).ToList();

    public override IReadOnlyList<(string Name, Module Child)> Children() => layers;

    public override Tensor Forward(Tensor x)
    {
        using var _ = Enter(x);
        foreach (var (_, m) in layers) x = m.Forward(x);
        return x;
    }

    public Module this[int index] => layers[index].Child;
    public int Count => layers.Count;
    public IEnumerator<Module> GetEnumerator() => layers.Select(l => l.Child).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// A list of modules whose parameters belong to the module holding it, as torch.nn.ModuleList
/// (a plain array or List of modules would hide them, so a field of one is an error).
/// </summary>
public sealed class ModuleList<T> : Module, IReadOnlyList<T> where T : Module
{
    private readonly List<T> items;

    public ModuleList(IEnumerable<T> modules) => items = modules.ToList();
    public ModuleList(params T[] modules) : this((IEnumerable<T>)modules) { }

    /// <summary>Appends a module; only before the list's first run, when its variables are made.</summary>
    public void Add(T module)
    {
        if (IsBound) throw new GraphException("a ModuleList cannot grow after its variables are made (after its first run)");
        items.Add(module);
    }

    public override IReadOnlyList<(string Name, Module Child)> Children() =>
        items.Select((m, i) => (i.ToString(), (Module)m)).ToList();

    public T this[int index] => items[index];
    public int Count => items.Count;
    public IEnumerator<T> GetEnumerator() => items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
