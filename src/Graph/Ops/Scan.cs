using System.Security.Cryptography;
using System.Text;

namespace GraphNet;

/// <summary>
/// The body of a scan: a graph of its own whose placeholders are the carried state, one step's
/// slice of each sequence and the values captured from around it, and whose outputs are the next
/// state and the step's outputs. Backends compile it once, whatever the sequence length.
/// </summary>
public sealed class ScanBody
{
    internal ScanBody(Graph graph, Tensor[] carries, Tensor[] xs, Tensor[] captures, Tensor[] carryOut, Tensor[] ys)
    {
        Graph = graph; Carries = carries; Xs = xs; Captures = captures; CarryOut = carryOut; Ys = ys;
        Inputs = [.. carries, .. xs, .. captures];
        Outputs = [.. carryOut, .. ys];
        for (int i = 0; i < carries.Length; i++)
            if (carryOut[i].Type != carries[i].Type)
                throw new GraphException($"scan: the body returns {carryOut[i].Type} for carry {i}, which comes in as {carries[i].Type}; " +
                    "a carry keeps its type and shape from step to step");
    }

    public Graph Graph { get; }
    public IReadOnlyList<Tensor> Carries { get; }
    public IReadOnlyList<Tensor> Xs { get; }
    public IReadOnlyList<Tensor> Captures { get; }
    public IReadOnlyList<Tensor> CarryOut { get; }
    public IReadOnlyList<Tensor> Ys { get; }

    /// <summary>Every placeholder, in the order a step is given them: carries, step slices, captures.</summary>
    public IReadOnlyList<Tensor> Inputs { get; }
    /// <summary>What a step returns: the next carries, then the step's outputs.</summary>
    public IReadOnlyList<Tensor> Outputs { get; }

    /// <summary>
    /// For each step output, the index among <see cref="Inputs"/> of the placeholder it returns
    /// unchanged (a carry kept as a residual, say), else −1: the loop stacks those from its own
    /// input arrays, so a step need not copy them out.
    /// </summary>
    public IReadOnlyList<int> PassedYs => passedYs ??= Ys.Select(y => Inputs.ToList().IndexOf(y)).ToArray();
    private int[]? passedYs;

    /// <summary>The indices in <see cref="Outputs"/> of what a compiled step computes: all but the ys passed through unchanged.</summary>
    public IReadOnlyList<int> Computed => computed ??=
        Enumerable.Range(0, Outputs.Count).Where(i => i < Carries.Count || PassedYs[i - Carries.Count] < 0).ToArray();
    private int[]? computed;

    /// <summary>The outputs a compiled step computes (see <see cref="Computed"/>).</summary>
    public IReadOnlyList<Tensor> ComputedOutputs => Computed.Select(i => Outputs[i]).ToArray();

    /// <summary>The nodes a step runs, in order.</summary>
    public IReadOnlyList<Node> Schedule => schedule ??= ComputeSchedule();
    private Node[]? schedule;

    private Node[] ComputeSchedule()
    {
        var needed = new HashSet<Node>();
        var stack = new Stack<Node>(Outputs.Select(o => o.Node));
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            if (needed.Add(n)) foreach (var i in n.Inputs) stack.Push(i.Node);
        }
        return Graph.Nodes.Where(needed.Contains).ToArray();
    }

    /// <summary>A digest of the body's text and roles: scans with equal digests compute the same thing.</summary>
    public string Digest => digest ??= ComputeDigest();
    private string? digest;

    private string ComputeDigest()
    {
        var sb = new StringBuilder();
        foreach (var n in Schedule) sb.AppendLine(GraphText.FormatNode(n));
        string Ids(IEnumerable<Tensor> ts) => string.Join(",", ts.Select(t => $"{t.Node.Id}:{t.Index}"));
        sb.Append("in ").Append(Ids(Inputs)).Append(" out ").Append(Ids(Outputs))
          .Append(" counts ").Append($"{Carries.Count},{Xs.Count},{Captures.Count}");
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())))[..16].ToLowerInvariant();
    }

    /// <summary>Runs one step by each node's reference evaluation (or <paramref name="eval"/>).</summary>
    public NDArray[] Step(NDArray[] inputs, Func<Node, NDArray[], NDArray[]> eval)
    {
        var values = new Dictionary<Tensor, NDArray>();
        for (int i = 0; i < Inputs.Count; i++) values[Inputs[i]] = inputs[i];
        foreach (var n in Schedule)
        {
            if (values.ContainsKey(n.Outputs[0])) continue;
            var outs = eval(n, n.Inputs.Select(t => values[t]).ToArray());
            for (int i = 0; i < outs.Length; i++) values[n.Outputs[i]] = outs[i];
        }
        return Outputs.Select(o => values[o]).ToArray();
    }

    /// <summary>The body in the text form, with its roles (dumps).</summary>
    public string ToText()
    {
        string Ids(IEnumerable<Tensor> ts) => string.Join(", ", ts.Select(t => "%" + t.Node.Id));
        return $"body {Digest}: carries {Ids(Carries)}; xs {Ids(Xs)}; captures {Ids(Captures)}\n" +
            string.Concat(Schedule.Select(n => "  " + GraphText.FormatNode(n) + "\n")) +
            $"  next carries {Ids(CarryOut)}; ys {Ids(Ys)}\n";
    }
}

/// <summary>
/// A loop over a sequence axis (JAX's <c>lax.scan</c>, TF1's <c>tf.scan</c>): inputs are the
/// initial carries, the sequences (scanned along <see cref="Axis"/>) and the captured values;
/// outputs the final carries and each step's outputs stacked along <see cref="Axis"/>.
/// <see cref="Length"/> may be the symbolic batch dimension N when the sequences are fed with
/// their length in that place. <see cref="Extends"/> marks a scan that is another one with extra
/// per-step outputs (the residuals its gradient keeps); the compiler runs the two as one.
/// </summary>
public sealed record ScanOp(ScanBody Body, int Length, int Axis = 0, bool Reverse = false, ScanOp? Extends = null, bool Recompute = false) : Op
{
    public override string Name => "scan";

    public override IEnumerable<(string, object?)> Attributes() =>
        new (string, object?)[] { ("body", Body.Digest), ("length", Shape.Dim(Length)), ("axis", Axis) }
            .Concat(Reverse ? [("reverse", (object?)true)] : [])
            .Concat(Recompute ? [("recompute", (object?)true)] : []);

    public int CarryCount => Body.Carries.Count;
    public int XCount => Body.Xs.Count;

    public override TensorType[] InferTypes(TensorType[] x)
    {
        int c = Body.Carries.Count, xs = Body.Xs.Count, k = Body.Captures.Count;
        ExpectInputs(Name, x, c + xs + k);
        for (int i = 0; i < c; i++)
            if (x[i] != Body.Carries[i].Type) throw Error($"scan: initial carry {i} is {x[i]}, the body takes {Body.Carries[i].Type}");
        for (int i = 0; i < xs; i++)
        {
            var want = Stacked(Body.Xs[i].Type);
            if (x[c + i] != want)
                throw Error($"scan: sequence {i} is {x[c + i]}, the body takes steps of {Body.Xs[i].Type} along axis {Axis} ({want})");
        }
        for (int i = 0; i < k; i++)
            if (x[c + xs + i] != Body.Captures[i].Type)
                throw Error($"scan: captured value {i} is {x[c + xs + i]}, the body takes {Body.Captures[i].Type}");
        return [.. Body.CarryOut.Select(t => t.Type), .. Body.Ys.Select(t => Stacked(t.Type))];
    }

    /// <summary>A step's type with the sequence axis put back.</summary>
    public TensorType Stacked(TensorType step)
    {
        if (Axis > step.Shape.Rank) throw Error($"scan: axis {Axis} is out of range for steps of {step}");
        var d = step.Shape.Dims.ToList();
        d.Insert(Axis, Length);
        return new TensorType(step.DType, new Shape([.. d]));
    }

    public override Tensor?[] Gradient(GradContext g) => ScanGradient.Build(this, g);

    public override NDArray[] Evaluate(EvalContext ctx, NDArray[] x) => Run(x, Copying(inputs => Body.Step(inputs, (n, v) => n.Op.Evaluate(ctx, v))));

    /// <summary>A step that returns new arrays, as one that writes into the arrays it is given.</summary>
    public static Action<NDArray[], NDArray[]> Copying(Func<NDArray[], NDArray[]> step) => (inputs, outputs) =>
    {
        var outs = step(inputs);
        for (int i = 0; i < outs.Length; i++) Array.Copy(outs[i].Data, outputs[i].Data, outputs[i].Size);
    };

    /// <summary>
    /// The loop, for every backend: copies each step's slices in, runs <paramref name="step"/> (the
    /// body compiled, interpreted or evaluated), which writes the next carries and the step's
    /// outputs into the arrays it is given (those in <see cref="ScanBody.Computed"/> at least: the
    /// loop stacks a passed-through input from the input itself), and stacks the outputs (into <paramref name="into"/>,
    /// all of the op's outputs, when given). The carries live in two buffers used in turn; nothing
    /// is allocated per step, nor per run with <paramref name="buffers"/> kept by the caller.
    /// </summary>
    public NDArray[] Run(NDArray[] x, Action<NDArray[], NDArray[]> step, NDArray[]? into = null, ScanBuffers? buffers = null)
    {
        int c = Body.Carries.Count, nx = Body.Xs.Count, k = Body.Captures.Count, ny = Body.Ys.Count;
        int T = Length != Shape.Batch ? Length
            : nx > 0 ? x[c].Shape[Axis] : throw new GraphException("scan: a symbolic length needs a sequence to take it from");
        if (T < 1) throw new GraphException($"scan: the sequences have {T} steps; a scan runs at least one");
        int batch = BatchOf(x);
        var bodyIn = new NDArray[c + nx + k];
        for (int i = 0; i < k; i++) bodyIn[c + nx + i] = x[c + nx + i];
        var (slices, first, second, stepYs) = buffers?.For(this, batch) ?? ScanBuffers.Make(this, batch);
        var next = first;
        var bodyOut = new NDArray[c + ny];
        Array.Copy(stepYs, 0, bodyOut, c, ny);
        var ys = into?[c..] ?? Body.Ys.Select(y => NDArray.Zeros(y.DType, Insert(y.Type.Shape.Resolve(batch), T))).ToArray();
        var carries = x[..c];
        for (int s = 0; s < T; s++)
        {
            int t = Reverse ? T - 1 - s : s;
            Array.Copy(carries, bodyIn, c);
            for (int i = 0; i < nx; i++) Take(x[c + i], t, slices[i]);
            Array.Copy(slices, 0, bodyIn, c, nx);
            Array.Copy(next, bodyOut, c);
            step(bodyIn, bodyOut);
            for (int i = 0; i < ny; i++) Put(Body.PassedYs[i] is >= 0 and var p ? bodyIn[p] : bodyOut[c + i], ys[i], t, T);
            // The carries just written are read by the next step, which writes the other buffers.
            carries = next;
            next = next == first ? second : first;
        }
        if (into is null) return [.. carries, .. ys];
        for (int i = 0; i < c; i++) Array.Copy(carries[i].Data, into[i].Data, into[i].Size);
        return into;
    }

    /// <summary>
    /// The loop on rows [lo, hi) of the batch alone, for a body whose every row is computed from
    /// the same row of its inputs (a recurrent cell: see the compiler's row-split check): the
    /// carries, the step slices and the symbolic captures are those rows, copied in, and the
    /// step writes those rows of <paramref name="into"/> (all of the op's outputs). Sequences
    /// are time-major (<see cref="Axis"/> 0) and every symbolic value has the batch first. Two
    /// row ranges run at once on two threads, each with its own <paramref name="buffers"/>.
    /// </summary>
    internal void RunRows(NDArray[] x, Action<NDArray[], NDArray[]> step, NDArray[] into, ScanBuffers buffers, int lo, int hi)
    {
        int c = Body.Carries.Count, nx = Body.Xs.Count, k = Body.Captures.Count, ny = Body.Ys.Count, T = Length;
        if (Axis != 0 || T < 0) throw new InvalidOperationException("scan: rows run only over a static time-major length");
        int rows = hi - lo;
        var (slices, first, second, stepYs) = buffers.For(this, rows);
        var (init, captured) = buffers.RowsFor(this, rows);
        var bodyIn = new NDArray[c + nx + k];
        for (int i = 0; i < k; i++)
            bodyIn[c + nx + i] = Body.Captures[i].Shape.IsSymbolic ? CopyRows(x[c + nx + i], lo, captured[i]) : x[c + nx + i];
        for (int i = 0; i < c; i++) CopyRows(x[i], lo, init[i]);
        var bodyOut = new NDArray[c + ny];
        Array.Copy(stepYs, 0, bodyOut, c, ny);
        NDArray[] carries = init, next = first;
        for (int s = 0; s < T; s++)
        {
            int t = Reverse ? T - 1 - s : s;
            Array.Copy(carries, bodyIn, c);
            for (int i = 0; i < nx; i++) StepRows(x[c + i], t, lo, slices[i], take: true);
            Array.Copy(slices, 0, bodyIn, c, nx);
            Array.Copy(next, bodyOut, c);
            step(bodyIn, bodyOut);
            for (int i = 0; i < ny; i++) StepRows(into[c + i], t, lo, Body.PassedYs[i] is >= 0 and var p ? bodyIn[p] : bodyOut[c + i], take: false);
            carries = next;
            next = next == first ? second : first;
        }
        for (int i = 0; i < c; i++)
        {
            int row = carries[i].Size / rows;
            CopyBlocks(carries[i].Data, 0, rows * row, into[i].Data, lo * row, rows * row, 1, rows * row);
        }
    }

    /// <summary>Rows [lo, lo + rows) of a batch-first value into <paramref name="to"/> (rows long).</summary>
    private static NDArray CopyRows(NDArray from, int lo, NDArray to)
    {
        int row = from.Size / from.Shape[0];
        CopyBlocks(from.Data, lo * row, to.Size, to.Data, 0, to.Size, 1, to.Size);
        return to;
    }

    /// <summary>Rows [lo, ..) of step t of a time-major sequence [T, N, ..], to or from a step value of those rows.</summary>
    private static void StepRows(NDArray seq, int t, int lo, NDArray step, bool take)
    {
        int n = seq.Shape[1], row = seq.Size / (seq.Shape[0] * n), at = (t * n + lo) * row;
        if (take) CopyBlocks(seq.Data, at, step.Size, step.Data, 0, step.Size, 1, step.Size);
        else CopyBlocks(step.Data, 0, step.Size, seq.Data, at, step.Size, 1, step.Size);
    }

    /// <summary>The batch size N of the body's symbolic inputs, from the values given (1 when none is symbolic).</summary>
    private int BatchOf(NDArray[] x)
    {
        var inputs = Body.Inputs;
        int c = Body.Carries.Count, nx = Body.Xs.Count;
        for (int i = 0; i < inputs.Count; i++)
        {
            var shape = inputs[i].Shape;
            var actual = i >= c && i < c + nx ? x[i].Shape.Where((_, d) => d != Axis).ToArray() : x[i].Shape;
            for (int d = 0; d < shape.Rank; d++) if (shape[d] < 0) return actual[d] / -shape[d];
        }
        return 1;
    }

    private int[] Insert(int[] shape, int n) { var l = shape.ToList(); l.Insert(Axis, n); return [.. l]; }

    /// <summary>Copies step t of a sequence into <paramref name="y"/>.</summary>
    private void Take(NDArray seq, int t, NDArray y)
    {
        var (outer, T, inner) = Split(seq.Shape);
        CopyBlocks(seq.Data, t * inner, T * inner, y.Data, 0, inner, outer, inner);
    }

    private void Put(NDArray y, NDArray seq, int t, int steps)
    {
        var (outer, T, inner) = Split(seq.Shape);
        if (T != steps || y.Size != outer * inner)
            throw new GraphException($"scan: step output of shape {y.ShapeString} does not fit the stacked {seq.ShapeString}");
        CopyBlocks(y.Data, 0, inner, seq.Data, t * inner, T * inner, outer, inner);
    }

    /// <summary><paramref name="blocks"/> runs of <paramref name="length"/> elements, typed (a scan copies thousands a step).</summary>
    private static void CopyBlocks(Array from, int start, int stride, Array to, int toStart, int toStride, int blocks, int length)
    {
        switch (from)
        {
            case float[] f: CopyBlocks(f, start, stride, (float[])to, toStart, toStride, blocks, length); break;
            case double[] d: CopyBlocks(d, start, stride, (double[])to, toStart, toStride, blocks, length); break;
            default:
                for (int o = 0; o < blocks; o++) Array.Copy(from, start + o * stride, to, toStart + o * toStride, length);
                break;
        }
    }

    private static void CopyBlocks<T>(T[] from, int start, int stride, T[] to, int toStart, int toStride, int blocks, int length)
    {
        if (stride == length && toStride == length) { from.AsSpan(start, blocks * length).CopyTo(to.AsSpan(toStart)); return; }
        for (int o = 0; o < blocks; o++) from.AsSpan(start + o * stride, length).CopyTo(to.AsSpan(toStart + o * toStride, length));
    }

    private (int Outer, int T, int Inner) Split(int[] shape)
    {
        int outer = 1, inner = 1;
        for (int i = 0; i < Axis; i++) outer *= shape[i];
        for (int i = Axis + 1; i < shape.Length; i++) inner *= shape[i];
        return (outer, shape[Axis], inner);
    }
}

/// <summary>A scan's working arrays (step slices, the two carry buffers, step outputs) kept between runs, by batch size.</summary>
public sealed class ScanBuffers
{
    private readonly Dictionary<int, (NDArray[], NDArray[], NDArray[], NDArray[])> byBatch = [];

    internal (NDArray[] Slices, NDArray[] First, NDArray[] Second, NDArray[] StepYs) For(ScanOp op, int batch) =>
        byBatch.TryGetValue(batch, out var b) ? b : byBatch[batch] = Make(op, batch);

    internal static (NDArray[], NDArray[], NDArray[], NDArray[]) Make(ScanOp op, int batch) =>
        (Zeros(op.Body.Xs, batch), Zeros(op.Body.Carries, batch), Zeros(op.Body.Carries, batch), Zeros(op.Body.Ys, batch));

    private readonly Dictionary<int, (NDArray[], NDArray[])> rowsByBatch = [];

    /// <summary>For <see cref="ScanOp.RunRows"/>: the initial carries' rows and the symbolic captures' rows.</summary>
    internal (NDArray[] Init, NDArray[] Captured) RowsFor(ScanOp op, int rows) =>
        rowsByBatch.TryGetValue(rows, out var b) ? b
            : rowsByBatch[rows] = (Zeros(op.Body.Carries, rows), op.Body.Captures.Select(t => t.Shape.IsSymbolic ? NDArray.Zeros(t.DType,
                t.Shape.Resolve(rows)) : null!).ToArray());

    private static NDArray[] Zeros(IEnumerable<Tensor> ts, int batch) => ts.Select(t => NDArray.Zeros(t.DType, t.Shape.Resolve(batch))).ToArray();
}
