namespace GraphNet.Compiler;

/// <summary>
/// Where every storage of a memory plan sits in a step's buffer table: the feeds, then the
/// variables, the constants, the arena's slots, and the variables' second buffers (what a step
/// writes a new value into). Computed once per compilation; emitters name buffers by these
/// indices and executables fill the table by them.
/// </summary>
public sealed class BufferTable
{
    public BufferTable(MemoryPlan memory)
    {
        Memory = memory;
        VariableBase = memory.Feeds.Count;
        ConstantBase = VariableBase + memory.Variables.Count;
        SlotBase = ConstantBase + memory.Constants.Count;
        NextBase = SlotBase + memory.Slots.Count;
        Count = NextBase + memory.Variables.Count;
    }

    public MemoryPlan Memory { get; }
    public int VariableBase { get; }
    public int ConstantBase { get; }
    public int SlotBase { get; }
    /// <summary>Where the variables' second buffers start.</summary>
    public int NextBase { get; }
    /// <summary>Entries in the table.</summary>
    public int Count { get; }

    public int IndexOf(Storage s) => s.Kind switch
    {
        StorageKind.Feed => s.Index,
        StorageKind.Variable => VariableBase + s.Index,
        StorageKind.Constant => ConstantBase + s.Index,
        StorageKind.Slot => SlotBase + s.Index,
        _ => NextBase + s.Index,
    };

    /// <summary>The entry holding a tensor's values (a view's: its source's).</summary>
    public int IndexOf(Tensor t) => IndexOf(Memory.StorageOf[MemoryPlan.Root(t)]);
}
