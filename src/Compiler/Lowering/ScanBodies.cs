namespace GraphNet.Compiler;

/// <summary>
/// The scan-body stage: each scan kernel's body is compiled on its own, through the whole
/// pipeline for the same backend (so fusion and memory planning work inside it), once for any
/// sequence length. The scan's kernel runs it once per step (see <see cref="ScanOp.Run"/>).
/// </summary>
public sealed class ScanBodies : Stage
{
    public override string Name => "scan_bodies";

    public override bool RunsOnRestore => true;

    public override void Run(Compilation c)
    {
        var bodies = new Dictionary<Node, CompiledExecutable>();
        foreach (var k in c.Kernels)
            if (k.Anchor is { Op: ScanOp scan } anchor)
            {
                var b = scan.Body;
                bodies[anchor] = Compilation.Compile(b.Graph, b.ComputedOutputs, b.Inputs, c.Options, c.Cache, c.Session);
            }
        c.Bodies = bodies;
    }

    public override IEnumerable<(string File, Func<string> Text)> Dump(Compilation c)
    {
        var scans = c.Kernels.Where(k => k.Anchor?.Op is ScanOp).Select(k => k.Anchor!).ToList();
        return [("txt", () => scans.Count == 0 ? "no scans\n" : string.Concat(scans.Select(n => $"{n}\n{((ScanOp)n.Op).Body.ToText()}")))];
    }
}

/// <summary>
/// Runs a scan with its compiled body, feeding each step's values to the body's placeholders; the
/// body computes <see cref="ScanBody.ComputedOutputs"/> into the loop's arrays for them.
/// </summary>
internal sealed class ScanRunner
{
    private readonly ScanOp scan;
    private readonly Executable body;
    private readonly Dictionary<Tensor, NDArray> feeds = [];
    private readonly Runtime.VariableStore none = new();
    private readonly ScanBuffers buffers = new();
    private readonly int[] computed;
    private readonly NDArray[] into;

    public ScanRunner(ScanOp scan, Executable body)
    {
        this.scan = scan; this.body = body;
        computed = [.. scan.Body.Computed];
        into = new NDArray[computed.Length];
    }

    public NDArray[] Run(NDArray[] inputs, NDArray[]? stacked, EvalContext eval) => scan.Run(inputs, (step, outputs) =>
    {
        for (int i = 0; i < step.Length; i++) feeds[scan.Body.Inputs[i]] = step[i];
        for (int i = 0; i < computed.Length; i++) into[i] = outputs[computed[i]];
        body.RunInto(feeds, none, eval, into);
    }, stacked, buffers);
}
