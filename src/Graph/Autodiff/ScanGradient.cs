namespace GraphNet;

/// <summary>
/// The gradient of a scan: a scan in the other direction whose step is the gradient of the
/// forward step. It carries the gradients of the carries and the sums of the captured values'
/// gradients, and takes per step what the backward step reads of the forward one: every such
/// value (the residuals, stacked by a second forward scan that the compiler runs as the first),
/// or with <see cref="ScanOp.Recompute"/> only the carries, the step being run again.
/// </summary>
internal static class ScanGradient
{
    public static Tensor?[] Build(ScanOp op, GradContext g)
    {
        var node = g.Node;
        var body = op.Body;
        int nc = body.Carries.Count, nx = body.Xs.Count, nk = body.Captures.Count, ny = body.Ys.Count;
        bool Wanted(int input) => node.Inputs[input].DType.IsFloat() && g.Needs(input);

        // 1. A copy of the step with its gradient, each float output seeded by a placeholder.
        var h = new Graph(node.Graph.Seed);
        var toH = new Dictionary<Tensor, Tensor>();
        foreach (var n in body.Inputs.Select(t => t.Node).Concat(body.Schedule).Distinct())
        {
            var outs = h.AddNodeLike(n.Op, n.Inputs.Select(i => toH[i]).ToArray(), n).Outputs;
            for (int i = 0; i < outs.Count; i++) toH[n.Outputs[i]] = outs[i];
        }
        var fromH = toH.ToDictionary(kv => kv.Value, kv => kv.Key);
        var hIn = body.Inputs.Select(t => toH[t]).ToArray();
        var hOut = body.Outputs.Select(t => toH[t]).ToArray();
        int boundary = h.NextId;
        // The carries' gradients flow from step to step; a step output is seeded only where its gradient flows.
        var seeded = Enumerable.Range(0, nc + ny).Where(i => hOut[i].DType.IsFloat() && (i < nc || g.Dys[i] is not null)).ToArray();
        var seeds = seeded.ToDictionary(i => i, i => h.Placeholder(hOut[i].DType, hOut[i].Shape.ToArray(), $"d_out{i}"));
        var floatCarries = Enumerable.Range(0, nc).Where(j => hIn[j].DType.IsFloat()).ToArray();
        var wantedXs = Enumerable.Range(0, nx).Where(i => Wanted(nc + i)).ToArray();
        var wantedCaptures = Enumerable.Range(0, nk).Where(i => Wanted(nc + nx + i)).ToArray();
        var wrt = floatCarries.Select(j => hIn[j]).Concat(wantedXs.Select(i => hIn[nc + i]))
            .Concat(wantedCaptures.Select(i => hIn[nc + nx + i])).ToArray();
        var grads = F.Gradients(seeded.Select(i => hOut[i]).ToArray(), wrt, seeded.Select(i => seeds[i]).ToArray());

        // 2. What the backward step reads of the forward step: values that change from step to step.
        var varying = new HashSet<Node>(hIn.Take(nc + nx).Select(t => t.Node));
        foreach (var n in h.Nodes)
            if (n.Id < boundary && n.Inputs.Any(i => varying.Contains(i.Node))) varying.Add(n);
        bool Forward(Tensor t) => t.Node.Id < boundary;
        var results = grads.Where(t => t is not null).Select(t => t!).ToArray();
        var residuals = new List<Tensor>();
        if (!op.Recompute)
        {
            foreach (var n in Ancestors(results, stop: t => Forward(t)))
                foreach (var i in n.Inputs)
                    if (Forward(i) && varying.Contains(i.Node) && !residuals.Contains(i)) residuals.Add(i);
            foreach (var r in results) if (Forward(r) && varying.Contains(r.Node) && !residuals.Contains(r)) residuals.Add(r);
        }
        else
            foreach (var n in Ancestors(results, stop: _ => false))
                for (int j = 0; j < nc; j++) if (n == hIn[j].Node && !residuals.Contains(hIn[j])) residuals.Add(hIn[j]);
        residuals.Sort((a, b) => (a.Node.Id, a.Index).CompareTo((b.Node.Id, b.Index)));
        var stacked = residuals.Where(r => Array.IndexOf(hIn, r) is var p && (p < nc || p >= nc + nx)).ToList();

        // 3. The backward step.
        var gb = Graph.BodyOf(node.Graph, node.Name + "_grad");
        var toG = new Dictionary<Tensor, Tensor>();
        var dCarry = floatCarries.Select(j => toG[seeds[j]] = gb.Placeholder(hIn[j].DType, hIn[j].Shape.ToArray(), $"d_carry{j}")).ToArray();
        var dSum = wantedCaptures.Select(i => gb.Placeholder(hIn[nc + nx + i].DType, hIn[nc + nx + i].Shape.ToArray(), $"d_capture{i}")).ToArray();
        var res = stacked.Select((r, i) => toG[r] = gb.Placeholder(r.DType, r.Shape.ToArray(), $"residual{i}")).ToArray();
        Tensor Like(Tensor t, string name) => gb.Placeholder(t.DType, t.Shape.ToArray(), name);
        var dYs = seeded.Where(i => i >= nc).Select(i => toG[seeds[i]] = Like(hOut[i], $"d_y{i - nc}")).ToArray();
        var xsIn = Enumerable.Range(0, nx).Select(i => toG[hIn[nc + i]] = Like(hIn[nc + i], $"x{i}")).ToArray();
        var capIn = Enumerable.Range(0, nk).Select(i => toG[hIn[nc + nx + i]] = Like(hIn[nc + nx + i], $"capture{i}")).ToArray();
        var needed = Ancestors(results, stop: toG.ContainsKey).ToHashSet();
        foreach (var n in h.Nodes)
        {
            if (!needed.Contains(n) || n.Outputs.All(toG.ContainsKey)) continue;
            if (n.Op is PlaceholderOp) throw new InvalidOperationException($"scan gradient: {n} has no value in the backward step");
            var outs = gb.AddNodeLike(n.Op, n.Inputs.Select(i => toG[i]).ToArray(), n).Outputs;
            for (int i = 0; i < outs.Count; i++) toG[n.Outputs[i]] = outs[i];
        }
        Tensor? Grad(int w) => grads[w] is { } t ? toG[t] : null;
        var dCarryOut = floatCarries.Select((j, w) => gb.Capture(Grad(w) ?? F.ZerosLike(dCarry[w]))).ToArray();
        var dxs = wantedXs.Select((i, w) => gb.Capture(Grad(floatCarries.Length + w) ?? F.ZerosLike(xsIn[i]))).ToArray();
        // A captured weight's gradient: its terms xᵀ·dy (a matmul's weight gradient) are stacked and
        // summed after the loop as one GEMM over every step's rows; the other terms are summed in a carry.
        // A term that sums a step value over axes (a bias's gradient) is summed after the loop over
        // the stacked values and the step axis at once, as one reduction.
        var hoisted = new List<(int Capture, Tensor A, Tensor B)>();
        var hoistedSums = new List<(int Capture, Tensor Value, int[] Axes, Shape Shape)>();
        var summed = new List<(int Capture, Tensor Next)>();
        for (int w = 0; w < wantedCaptures.Length; w++)
        {
            if (Grad(floatCarries.Length + wantedXs.Length + w) is not { } d) continue;
            var rest = new List<Tensor>();
            foreach (var term in Terms(d))
                if (op.Axis <= 1 && term.Node.Op is MatMulOp { TransA: true, TransB: false, SumBatch: false }
                    && term.Node.Inputs.All(t => t.Rank == 2))
                    hoisted.Add((w, term.Node.Inputs[0], term.Node.Inputs[1]));
                else if (SumOfStepValue(term) is var (value, axes) && !term.Shape.IsSymbolic && !IsCaptured(value))
                    hoistedSums.Add((w, value, axes, term.Shape));
                else rest.Add(term);
            if (rest.Count > 0) summed.Add((w, gb.Capture(rest.Aggregate(dSum[w], (a, b) => a + b))));
        }
        bool IsCaptured(Tensor t) => capIn.Contains(t) || gb.Captures.Any(c => c.Inner == t);
        var stepYs = dxs.Concat(hoisted.SelectMany(t => new[] { t.A, t.B })).Concat(hoistedSums.Select(t => t.Value))
            .Distinct().Where(t => !IsStepInput(t)).ToList();
        bool IsStepInput(Tensor t) => res.Contains(t) || dYs.Contains(t) || xsIn.Contains(t);
        var roots = dCarryOut.Concat(summed.Select(s => s.Next)).Concat(stepYs).ToArray();
        var reads = Ancestors(roots, stop: _ => false).ToHashSet();
        var usedXs = Enumerable.Range(0, nx).Where(i => reads.Contains(xsIn[i].Node)).ToArray();
        var gBody = new ScanBody(gb, [.. dCarry, .. summed.Select(s => dSum[s.Capture])], [.. res, .. dYs, .. usedXs.Select(i => xsIn[i])],
            [.. capIn, .. gb.Captures.Select(c => c.Inner)], [.. dCarryOut, .. summed.Select(s => s.Next)], [.. stepYs]);

        // 4. The residuals, stacked by the forward scan with more outputs; the sequences are the op's own inputs.
        var outer = node.Graph;
        Tensor[] stackedOuter = [];
        if (stacked.Count > 0)
        {
            var extended = new ScanBody(body.Graph, [.. body.Carries], [.. body.Xs], [.. body.Captures], [.. body.CarryOut],
                [.. body.Ys, .. stacked.Select(r => fromH[r])]);
            var twin = outer.AddNode(op with { Body = extended, Extends = op }, node.Inputs, node.Name + "_residuals");
            stackedOuter = twin.Outputs.Skip(nc + ny).ToArray();
        }
        var dyStacked = seeded.Where(i => i >= nc).Select(i => g.Dys[i]!).ToArray();
        var backward = new ScanOp(gBody, op.Length, op.Axis, !op.Reverse);
        var inputs = floatCarries.Select(j => g.Dys[j] ?? F.ZerosLike(node.Outputs[j]))
            .Concat(summed.Select(s => F.ZerosLike(node.Inputs[nc + nx + wantedCaptures[s.Capture]])))
            .Concat(stackedOuter)
            .Concat(dyStacked)
            .Concat(usedXs.Select(i => node.Inputs[nc + i]))
            .Concat(node.Inputs.Skip(nc + nx))
            .Concat(gb.Captures.Select(c => c.Outer))
            .ToArray();
        var bwd = outer.AddNode(backward, inputs, node.Name + "_grad");

        // A step value as the whole sequence outside: a backward output, or the stacked input it came from.
        int bc = floatCarries.Length + summed.Count;
        Tensor Sequence(Tensor t) =>
            Array.IndexOf(res, t) is >= 0 and var r ? stackedOuter[r]
            : Array.IndexOf(dYs, t) is >= 0 and var y ? dyStacked[y]
            : Array.IndexOf(xsIn, t) is >= 0 and var x ? node.Inputs[nc + x]
            : bwd.Outputs[bc + stepYs.IndexOf(t)];
        var result = new Tensor?[node.Inputs.Count];
        for (int w = 0; w < floatCarries.Length; w++) if (g.Needs(floatCarries[w])) result[floatCarries[w]] = bwd.Outputs[w];
        for (int w = 0; w < wantedXs.Length; w++) result[nc + wantedXs[w]] = Sequence(dxs[w]);
        for (int w = 0; w < wantedCaptures.Length; w++)
        {
            var parts = hoisted.Where(t => t.Capture == w)
                .Select(t => outer.Add1(new MatMulOp(true, false, SumBatch: true), [Sequence(t.A), Sequence(t.B)])).ToList();
            foreach (var (_, value, axes, shape) in hoistedSums.Where(t => t.Capture == w))
            {
                int[] all = [op.Axis, .. axes.Select(a => a >= op.Axis ? a + 1 : a)];
                // Kept dimensions, as SumTo writes a broadcast's gradient: CSE then merges equal sums.
                parts.Add(F.Reshape(F.Sum(Sequence(value), all, keepDims: true), shape.ToArray()));
            }
            int carried = summed.FindIndex(s => s.Capture == w);
            if (carried >= 0) parts.Add(bwd.Outputs[floatCarries.Length + carried]);
            if (parts.Count > 0) result[nc + nx + wantedCaptures[w]] = parts.Aggregate((a, b) => a + b);
        }
        return result;
    }

    /// <summary>A sum over axes of a value (reshaped or not, keeping the reduced axes or not): the value and the axes.</summary>
    private static (Tensor Value, int[] Axes)? SumOfStepValue(Tensor term)
    {
        var t = term.Node.Op is ReshapeOp ? term.Node.Inputs[0] : term;
        if (t.Node.Op is not ReduceOp { Kind: ReduceKind.Sum } r || t.Node.Inputs[0] is not { Rank: > 0 } v) return null;
        return (v, r.NormalizedAxes(v.Rank));
    }

    /// <summary>The terms of a sum of values of one shape.</summary>
    private static IEnumerable<Tensor> Terms(Tensor d) =>
        d.Node.Op is BinaryOp { Fn: var fn } && fn == Pointwise.Add && d.Node.Inputs.All(i => i.Shape == d.Shape)
            ? d.Node.Inputs.SelectMany(Terms) : [d];

    /// <summary>The nodes <paramref name="roots"/> depend on, not looking past tensors where <paramref name="stop"/> holds.</summary>
    private static IEnumerable<Node> Ancestors(IEnumerable<Tensor> roots, Func<Tensor, bool> stop)
    {
        var seen = new HashSet<Node>();
        var stack = new Stack<Tensor>(roots.Where(t => !stop(t)));
        while (stack.Count > 0)
        {
            var n = stack.Pop().Node;
            if (!seen.Add(n)) continue;
            yield return n;
            foreach (var i in n.Inputs) if (!stop(i)) stack.Push(i);
        }
    }
}
