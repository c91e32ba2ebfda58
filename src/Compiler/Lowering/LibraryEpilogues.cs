namespace GraphNet.Compiler;

/// <summary>Epilogue nodes a library call applies itself as it stores its output: a convolution's per-channel bias add and ReLU.</summary>
/// <param name="Nodes">The absorbed nodes, in order (the add, the ReLU, or both).</param>
/// <param name="Bias">The per-channel bias added, or null.</param>
/// <param name="Relu">Whether ReLU follows.</param>
/// <param name="Result">The tensor the call now writes: the last absorbed node's output.</param>
public sealed record AbsorbedEpilogue(IReadOnlyList<Node> Nodes, Tensor? Bias, bool Relu, Tensor Result);

/// <summary>
/// The C# backend's kernel pass: hands a Winograd convolution's bias add and ReLU to the convolution: the output
/// transform applies them while each tile is in registers, where the epilogue loop made one more
/// pass over the whole output (2.4M values for the book's conv2 at batch 64). Only where nothing
/// else reads the values in between, and only where Winograd will run (the other algorithms
/// would apply them in a pass of their own, no better than the loop's).
/// </summary>
public sealed class LibraryEpilogues : Stage
{
    public override string Name => "library_epilogues";

    public override void Run(Compilation c) => c.Report.Kernels = c.Kernels = Absorb(c.Unit, c.Kernels);

    public override void Verify(Compilation c) => Verifier.VerifyKernels(c.Unit, c.Kernels, c.Fusion, Name);

    public override IEnumerable<(string File, Func<string> Text)> Dump(Compilation c)
    {
        var kernels = c.Kernels;
        return [("txt", () => KernelText.Format(kernels))];
    }

    public static List<Kernel> Absorb(Unit unit, List<Kernel> kernels)
    {
        var consumers = Fusion.Consumers(unit.Graph);
        var fetched = new HashSet<Tensor>(unit.Fetches);
        return kernels.Select(k => Absorbed(k, consumers, fetched) is { } a
            ? new Kernel
            {
                Index = k.Index, Name = k.Name, Anchor = k.Anchor, Prologue = k.Prologue, Domain = k.Domain, Leaves = k.Leaves,
                // The call writes the result to memory; the loop that stays (if any) reads it from there.
                Outputs = k.Outputs.Contains(a.Result) ? k.Outputs : [.. k.Outputs, a.Result],
                Epilogue = k.Epilogue.Where(n => !a.Nodes.Contains(n)).ToList(), Absorbed = a,
            }
            : k).ToList();
    }

    private static AbsorbedEpilogue? Absorbed(Kernel k, Dictionary<Tensor, List<Node>> consumers, HashSet<Tensor> fetched)
    {
        if (k.Anchor is not { Op: Conv2dOp conv } anchor || anchor.Outputs[0].DType != DType.Float32) return null;
        var w = anchor.Inputs[1].Shape;
        if (!Runtime.Kernels.Winograd.Applies(anchor.Inputs[0].Shape[1], w[0], w[2], w[3], conv.P)) return null;
        var nodes = new List<Node>();
        Tensor current = anchor.Outputs[0];
        Tensor? bias = null;
        // Each step: the only reader of the current value is the next epilogue node, and nobody fetches it.
        Node? Next() => consumers[current] is [var only] && !fetched.Contains(current) && k.Epilogue.Contains(only) ? only : null;
        if (Next() is { Op: BinaryOp { Fn: var plus } } add && plus == Pointwise.Add && PerChannel(add, current, w[0]) is { } b)
        {
            nodes.Add(add); bias = b; current = add.Outputs[0];
        }
        bool relu = false;
        if (Next() is { Op: UnaryOp { Fn: var fn } } r && fn == Pointwise.Relu)
        {
            nodes.Add(r); relu = true; current = r.Outputs[0];
        }
        return nodes.Count == 0 ? null : new AbsorbedEpilogue(nodes, bias, relu, current);
    }

    /// <summary>The other operand of add(value, b) when b holds one value per output channel ([C,1,1] or [1,C,1,1]).</summary>
    private static Tensor? PerChannel(Node add, Tensor value, int channels)
    {
        var other = add.Inputs[0] == value ? add.Inputs[1] : add.Inputs[0];
        if (other == value || other.DType != DType.Float32 || other.Shape.IsSymbolic) return null;
        var d = other.Shape.Dims;
        bool perChannel = d.Count is 3 or 4 && d[^3] == channels && d[^2] == 1 && d[^1] == 1 && (d.Count == 3 || d[0] == 1);
        return perChannel ? other : null;
    }
}
