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
/// body computes <see cref="ScanBody.ComputedOutputs"/> into the loop's arrays for them. A body
/// whose rows are independent (<see cref="RowSplit"/>) runs on parts of the batch, one per core,
/// each part with an instance of the body of its own.
/// </summary>
internal sealed class ScanRunner
{
    private readonly ScanOp scan;
    private readonly Part whole;
    private readonly List<Part> parts = [];
    private readonly Runtime.VariableStore none = new();
    private readonly int[] computed;

    /// <summary>Why the rows cannot run apart (null: they can).</summary>
    internal string? RowSplitBlocked { get; }

    /// <summary>Run independent rows apart (tests turn it off to compare).</summary>
    internal static bool SplitRows { get; set; } = true;

    /// <summary>How many parts the last run had (1: the whole batch in one loop).</summary>
    internal int LastParts { get; private set; }

    private sealed class Part(CompiledExecutable body, int outputs)
    {
        public readonly CompiledExecutable Body = body;
        public readonly Dictionary<Tensor, NDArray> Feeds = [];
        public readonly ScanBuffers Buffers = new();
        public readonly NDArray[] Into = new NDArray[outputs];
    }

    public ScanRunner(ScanOp scan, CompiledExecutable body)
    {
        this.scan = scan;
        computed = [.. scan.Body.Computed];
        whole = new Part(body, computed.Length);
        body.HoldStill(scan.Body.Captures);
        RowSplitBlocked = RowSplit.Check(scan);
    }

    public NDArray[] Run(NDArray[] inputs, NDArray[]? stacked, EvalContext eval)
    {
        int batch = stacked is null || RowSplitBlocked is not null || !SplitRows ? 0 : Batch(inputs);
        int count = batch == 0 ? 1 : PartsFor(batch);
        whole.Body.BeginScanRun();
        while (count > 1 && parts.Count < count)
        {
            var body = parts.Count == 0 ? whole.Body : whole.Body.Fork(); // a fork holds the same feeds still
            if (body is null) { count = 1; break; }
            parts.Add(new Part(body, computed.Length));
        }
        LastParts = count;
        if (count == 1) return scan.Run(inputs, Step(whole, eval), stacked, whole.Buffers);
        foreach (var part in parts.Skip(1)) part.Body.BeginScanRun();
        try
        {
            Runtime.Kernels.Work.Dynamic(count, count, (_, p) =>
                scan.RunRows(inputs, Step(parts[p], eval), stacked!, parts[p].Buffers, batch * p / count, batch * (p + 1) / count));
        }
        catch (AggregateException e) when (e.InnerExceptions.Count == 1)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }
        return stacked!;
    }

    private Action<NDArray[], NDArray[]> Step(Part part, EvalContext eval) => (step, outputs) =>
    {
        for (int i = 0; i < step.Length; i++) part.Feeds[scan.Body.Inputs[i]] = step[i];
        for (int i = 0; i < computed.Length; i++) part.Into[i] = outputs[computed[i]];
        part.Body.RunInto(part.Feeds, none, eval, part.Into);
    };

    /// <summary>The batch: the first carry's rows, else the first sequence's (time-major, so its second axis).</summary>
    private int Batch(NDArray[] inputs) => scan.CarryCount > 0 ? inputs[0].Shape[0] : inputs[scan.CarryCount].Shape[1];

    private static int PartsFor(int batch) => Math.Max(1, Math.Min(Environment.ProcessorCount, batch / RowSplit.MinRows));
}
