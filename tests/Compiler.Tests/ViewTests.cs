namespace GraphNet.Compiler.Tests;

/// <summary>
/// Slices read in place by loops and concatenations whose pieces their loops store in place:
/// which become views, how they lie in the larger buffer, and what an LSTM step gains. (Their
/// values are checked against the interpreter by the slice and concat cases of
/// <see cref="CompiledOpTests"/>, on both backends, by the recurrent layers and by the fuzzer.)
/// </summary>
public class ViewTests
{
    [Fact]
    public void ALayoutStepsOverTheSourceRowsAndStartsAtTheSlice()
    {
        var g = new Graph(seed: 1);
        var xProj = g.Placeholder([-1, 28, 512], "xproj");
        // An LSTM's input at step 3: [N, 1, 512] of [N, 28, 512], read as [N, 512].
        var step = F.Slice(xProj, 1, 3, 1);
        var v = SliceViews.Layout(step.Node, new Shape(Shape.Batch, 512))!;
        Assert.Equal(xProj, v.Source);
        Assert.Equal([28 * 512, 1], v.Strides);
        Assert.Equal(3 * 512, v.Offset);
        // A gate: columns 256..383 of [N, 512].
        var z = g.Placeholder([-1, 512], "z");
        var gate = SliceViews.Layout(F.Slice(z, 1, 256, 128).Node, new Shape(Shape.Batch, 128))!;
        Assert.Equal([512, 1], gate.Strides);
        Assert.Equal(256, gate.Offset);
        // A middle axis: rows of 3·5 elements, one every 6·5.
        var mid = SliceViews.Layout(F.Slice(g.Placeholder([-1, 6, 5], "m"), 1, 2, 3).Node, new Shape(Shape.Batch, 3, 5))!;
        Assert.Equal([30, 5, 1], mid.Strides);
        Assert.Equal(10, mid.Offset);
        // Rows of 4 cannot be read as a shape whose last dimension is 16.
        Assert.Null(SliceViews.Layout(F.Slice(g.Placeholder([-1, 4, 6], "r"), 2, 1, 4).Node, new Shape(Shape.Batch, 16)));
    }

    [Fact]
    public void OnlySlicesReadElementByElementByLoopsBecomeViews()
    {
        var g = new Graph(seed: 1);
        var x = g.Placeholder([-1, 8], "x");
        var w = g.Placeholder([4, 3], "w");
        var byLoop = F.Slice(x, 1, 0, 4);      // read by exp: a view
        var byMatMul = F.Slice(x, 1, 4, 4);    // read by a GEMM: copied
        var fetched = F.Slice(x, 1, 2, 3);     // fetched: copied
        var y = F.Exp(byLoop) + F.Sum(F.MatMul(byMatMul, w), [1], keepDims: true);
        using var s = new Session(g, new SessionOptions { UseCompileCache = false });
        var feeds = new Dictionary<Tensor, NDArray> { [x] = NDArray.Zeros(DType.Float32, 2, 8), [w] = NDArray.Zeros(DType.Float32, 4, 3) };
        var exe = s.Compiled([y, fetched], feeds);
        // The compiler works on its own copy of the graph: find the slices there by name.
        var views = exe.Report.Fusion.SliceViews.Select(n => n.Name).ToHashSet();
        Assert.Equal([byLoop.Node.Name], views);
        Assert.Contains(exe.Report.Fusion.Decisions, d => d.Node.Name == byLoop.Node.Name && d.Reason.Contains("in place"));
        Assert.Contains(exe.Kernels, k => k.Anchor?.Name == byMatMul.Node.Name);
        Assert.Contains(exe.Kernels, k => k.Anchor?.Name == fetched.Node.Name);
        // The view has no kernel of its own and shares x's buffer.
        var view = exe.Report.Fusion.SliceViews.Single();
        Assert.DoesNotContain(exe.Kernels, k => k.Nodes.Contains(view));
        Assert.Equal(exe.Memory.StorageOf[view.Inputs[0]], exe.Memory.StorageOf[view.Outputs[0]]);
    }

    [Fact]
    public void AnUnrolledLstmStepCopiesNoSlicesAndWritesItsGateGradientsInPlace()
    {
        var m = Bench.BenchModel.LstmUnrolled();
        using var s = new Session(m.Graph, new SessionOptions { UseCompileCache = false });
        var exe = s.Compiled([m.Loss, m.TrainStep], m.Batch(4));
        var slices = m.Graph.Nodes.Count(n => n.Op is SliceOp);
        Assert.True(slices > 100, $"{slices} slices");
        Assert.DoesNotContain(exe.Kernels, k => k.Anchor?.Op is SliceOp);
        // Each time step's four gate gradients are stored straight into its [N, 4H] gradient.
        var stored = exe.Report.Fusion.ConcatViews;
        Assert.True(stored.Count(c => c.Inputs.Count == 4) >= 27, $"{stored.Count} concatenations stored in place: {string.Join(", ", stored.Select(c => c.Inputs.Count))} pieces");
        Assert.DoesNotContain(exe.Kernels, k => stored.Contains(k.Anchor!));
    }

    [Fact]
    public void OnlyPiecesComputedByLoopsAndReadByNothingElseAreStoredInPlace()
    {
        var g = new Graph(seed: 1);
        var x = g.Placeholder([-1, 4], "x");
        var w = g.Placeholder([4, 4], "w");
        var byLoops = F.Concat([F.Exp(x), F.Tanh(x)], 1);                 // in place
        var shared = F.Sigmoid(x);
        var withSharedPiece = F.Concat([shared, F.Exp(x * 2.0)], 1);       // sigmoid is read elsewhere too: copied
        var withGemmPiece = F.Concat([F.MatMul(x, w), F.Exp(x * 3.0)], 1); // a GEMM's own output: copied
        var y = F.Sum(byLoops) + F.Sum(withSharedPiece) + F.Sum(withGemmPiece) + F.Sum(shared);
        using var s = new Session(g, new SessionOptions { UseCompileCache = false });
        var feeds = new Dictionary<Tensor, NDArray> { [x] = NDArray.Zeros(DType.Float32, 2, 4), [w] = NDArray.Zeros(DType.Float32, 4, 4) };
        var exe = s.Compiled([y], feeds);
        Assert.Equal([byLoops.Node.Name], exe.Report.Fusion.ConcatViews.Select(n => n.Name));
        Assert.Contains(exe.Kernels, k => k.Anchor?.Name == withSharedPiece.Node.Name);
        Assert.Contains(exe.Kernels, k => k.Anchor?.Name == withGemmPiece.Node.Name);
        // Both pieces share the concatenation's buffer, written at offsets 0 and 4 of each row of 8.
        var concat = exe.Report.Fusion.ConcatViews.Single();
        Assert.All(concat.Inputs, p => Assert.Equal(exe.Memory.StorageOf[concat.Outputs[0]], exe.Memory.StorageOf[p]));
        Assert.Equal([0, 4], concat.Inputs.Select(p => exe.Memory.ViewOf(p)!.Offset));
        Assert.All(concat.Inputs, p => Assert.Equal([8, 1], exe.Memory.ViewOf(p)!.Strides));
    }
}

/// <summary>The plan that walks strided leaves: runs stay inside one row of the slice, and start at its offset.</summary>
public class StridedPlanTests
{
    private struct Recorder : IRunVisitor
    {
        public List<(int Out, int Offset, int Stride, int Count)> Runs;
        public void Run(int o, ReadOnlySpan<int> offs, ReadOnlySpan<int> st, int n) => Runs.Add((o, offs[0], st[0], n));
    }

    [Fact]
    public void AStridedInputIsWalkedRowByRowFromItsOffset()
    {
        // Columns 2..4 of a [2, 5] buffer, read as a [2, 3] output.
        var plan = new BroadcastPlan([2, 3], [[5, 1]], [2]);
        var r = new Recorder { Runs = [] };
        plan.ForEachRun(ref r);
        Assert.Equal([(0, 2, 1, 3), (3, 7, 1, 3)], r.Runs);
        // Contiguous rows (a slice along the first axis) merge into one run.
        var whole = new BroadcastPlan([2, 3], [[3, 1]], [6]);
        var w = new Recorder { Runs = [] };
        whole.ForEachRun(ref w);
        Assert.Equal([(0, 6, 1, 6)], w.Runs);
    }

    [Fact]
    public void RunsVisitedFromAnyStartAreTheRunsOfTheWholeWalk()
    {
        // A bias broadcast along the middle axis and a strided input, over [3, 4, 5]: split points
        // anywhere (as cores take shares of a large loop) must give the same runs and offsets.
        var plan = new BroadcastPlan([3, 4, 5], [BroadcastPlan.StridesFor([4, 1], [3, 4, 5]), [40, 10, 1]], [0, 3]);
        var whole = new Recorder { Runs = [] };
        plan.ForEachRun(ref whole);
        Assert.Equal(12, plan.Runs);
        for (int split = 0; split <= plan.Runs; split++)
        {
            var parts = new Recorder { Runs = [] };
            plan.ForEachRun(ref parts, 0, split);
            plan.ForEachRun(ref parts, split, plan.Runs);
            Assert.Equal(whole.Runs, parts.Runs);
        }
        Assert.Equal((45, 1, 0, 5), whole.Runs[9]); // run 9 = (2, 1): output 45, bias row 1 read as one value (stride 0)
    }
}
