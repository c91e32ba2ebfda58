using GraphNet.Bench;

namespace GraphNet.Compiler.Tests;

public class CompilerBehaviourTests
{
    [Fact]
    public void TheCnnTrainingStepMatchesTheInterpreterForFiveStepsWithDropout()
    {
        var a = BenchModel.Cnn();
        var b = BenchModel.Cnn();
        using var interp = new Session(a.Graph, new SessionOptions { Backend = Backend.Interpreter });
        using var compiled = new Session(b.Graph, new SessionOptions { UseCompileCache = false });
        for (int step = 0; step < 5; step++)
        {
            double la = interp.Run([a.Loss, a.TrainStep], a.Batch(16, seed: step))[0].Item();
            double lb = compiled.Run([b.Loss, b.TrainStep], b.Batch(16, seed: step))[0].Item();
            Assert.True(Math.Abs(la - lb) <= 1e-4 * Math.Abs(la), $"step {step}: interpreter loss {la}, compiled {lb}");
        }
        // Every weight of every layer, within float32 rounding of the two backends' orders of
        // summation (Winograd and GEMM against the reference loops): 1e-4 of the tensor's largest.
        foreach (var v in a.Graph.Variables.Select(n => ((VariableOp)n.Op).VarName))
        {
            var wa = interp.GetVariable(v).As<float>().ToArray();
            var wb = compiled.GetVariable(v).As<float>().ToArray();
            float scale = wa.Max(MathF.Abs), worst = wa.Zip(wb, (x, y) => MathF.Abs(x - y)).Max();
            Assert.True(worst <= 1e-4f * scale + 1e-7f, $"{v}: differs by {worst:G3}, its largest value is {scale:G3}");
        }
    }

    [Fact]
    public void ChangingTheBatchSizeDoesNotRecompile()
    {
        var m = BenchModel.Mlp();
        using var s = new Session(m.Graph, new SessionOptions { UseCompileCache = false });
        var exe = s.Compiled([m.Loss, m.TrainStep], m.Batch(64));
        foreach (int batch in new[] { 64, 64, 17, 1, 64 }) s.Run([m.Loss, m.TrainStep], m.Batch(batch));
        Assert.Equal(1, s.CompileCount);
        Assert.Same(exe, s.Compiled([m.Loss, m.TrainStep], m.Batch(5)));
        // A different fetch set is another signature, compiled once.
        s.Run(m.Output, new Dictionary<Tensor, NDArray> { [m.Input] = m.Batch(3)[m.Input] });
        Assert.Equal(2, s.CompileCount);
    }

    [Fact]
    public void AddingAStepFunctionLeavesTheFirstOnesExecutableInPlace()
    {
        using var exec = new Executor(new Graph(seed: 1), ExecutionMode.Deferred, new SessionOptions { UseCompileCache = false });
        var (train, _) = ModelSpec.Mlp.Functions(exec);
        var (x, labels) = ModelSpec.Mlp.Batch(8);
        train.Run([x, labels]);
        var session = exec.Session!;
        var plan = session.LastPlan!;
        var feeds = plan.FedTensors.ToDictionary(t => t, t => (NDArray)null!);
        var first = session.Compiled(plan.Fetches, feeds);
        // A new function adds nodes to the graph; the first function's signature is unchanged.
        var evaluate = exec.Function([TensorSpec.Float("probe", -1, 784)], xs => [F.Sum(xs[0])]);
        evaluate.Run([x]);
        train.Run([x, labels]);
        Assert.Same(first, session.Compiled(plan.Fetches, feeds));
        Assert.Equal(2, session.CompileCount);
    }

    [Fact]
    public void TheReportNamesTheOpsThatFallBackToReferenceLoops()
    {
        var m = BenchModel.Cnn();
        using (var s = new Session(m.Graph, new SessionOptions { UseCompileCache = false }))
            Assert.Empty(s.Compiled([m.Loss, m.TrainStep], m.Batch(4)).Report.ReferenceFallbacks);
        // float64: its matmul and pooling have library kernels; its log_softmax does not, and the report says so.
        var g = new Graph(seed: 1);
        var x = g.Placeholder(DType.Float64, [-1, 1, 4, 4], "x");
        var w = g.Variable("w", [4, 3], Initializer.Uniform(-1, 1), DType.Float64);
        using var s64 = new Session(g, new SessionOptions { UseCompileCache = false });
        var feeds = new Dictionary<Tensor, NDArray> { [x] = NDArray.Zeros(DType.Float64, 2, 1, 4, 4) };
        var pooled = F.Reshape(F.MaxPool2d(x, 2), -1, 4);
        var slow = s64.Compiled([F.Sum(F.LogSoftmax(F.MatMul(pooled, w), 1))], feeds).Report.ReferenceFallbacks;
        Assert.Contains(slow, l => l.StartsWith("log_softmax f64 x1 (at CompilerBehaviourTests.cs:"));
        Assert.DoesNotContain(slow, l => l.StartsWith("matmul") || l.StartsWith("max_pool"));
    }

    [Fact]
    public void TheCnnStepIsFusedAndMemoryPlanned()
    {
        var m = BenchModel.Cnn();
        using var s = new Session(m.Graph, new SessionOptions { UseCompileCache = false });
        var exe = s.Compiled([m.Loss, m.TrainStep], m.Batch(32));
        Assert.True(exe.KernelCount <= 0.4 * m.Graph.Nodes.Count, $"{exe.KernelCount} kernels for {m.Graph.Nodes.Count} ops");
        Assert.True(exe.Memory.ArenaBytes(32) <= 0.5 * exe.Memory.NaiveBytes(32), $"arena {exe.Memory.ArenaBytes(32)} vs naive {exe.Memory.NaiveBytes(32)}");
        // conv → bias add → relu is one kernel, named for what it does, with its source lines.
        var convRelu = exe.Kernels.First(k => k.Anchor?.Op is Conv2dOp && k.Epilogue.Any(n => n.Op is UnaryOp { Fn: var f } && f == Pointwise.Relu));
        Assert.Contains(convRelu.Epilogue, n => n.Op is BinaryOp { Fn: var f } && f == Pointwise.Add);
        Assert.Contains(convRelu.SourceLines, l => l.StartsWith("Models.cs:"));
        // Loops are vectorized at the machine's width through the vector handler, with the reference handler in the tails.
        Assert.Contains($"Simd{GraphNet.Runtime.Kernels.Simd.Width}<float>.Unary<global::GraphNet.Formulas.Relu>", exe.Report.Source);
        Assert.Contains("Reference<float>.Unary<global::GraphNet.Formulas.Relu>", exe.Report.Source);
        // Each Adadelta update is one kernel that writes the new weights and both slots.
        int fc1 = exe.Memory.Variables.FindIndex(v => ((VariableOp)v.Op).VarName == "fc1.weight");
        var update = exe.Kernels.Single(k => k.Outputs.Any(o => exe.Memory.StorageOf[o] is { Kind: StorageKind.VariableNext } st && st.Index == fc1));
        Assert.Equal(3, update.Outputs.Count(o => exe.Memory.StorageOf[o].Kind == StorageKind.VariableNext));
        Assert.Contains(update.Nodes, n => n.Op is UnaryOp { Fn: var f } && f == Pointwise.Sqrt);
        // conv2 (Winograd) adds its bias and applies ReLU as it stores: no epilogue pass of its own.
        var conv2 = exe.Kernels.Single(k => k.Anchor?.Op is Conv2dOp && k.Anchor.Inputs[0].Shape[1] == 32);
        Assert.NotNull(conv2.Absorbed);
        Assert.True(conv2.Absorbed!.Relu);
        Assert.NotNull(conv2.Absorbed.Bias);
        Assert.Empty(conv2.Epilogue);
        Assert.Contains("applies add and relu itself", exe.Report.Source);
        // conv1 (one input channel: the direct kernel) keeps its epilogue loop.
        Assert.Null(exe.Kernels.Single(k => k.Anchor?.Op is Conv2dOp && k.Anchor.Inputs[0].Shape[1] == 1).Absorbed);
        // Every fusion decision has a reason.
        Assert.All(exe.Report.Fusion.Decisions, d => Assert.False(string.IsNullOrWhiteSpace(d.Reason)));
        Assert.Contains(exe.Report.Fusion.Decisions, d => d.Reason.Contains("epilogue of conv2d"));
    }

    [Fact]
    public void CompiledCodeIsUnloadedWhenTheSessionIsDisposed()
    {
        var weak = CompileAndDispose();
        for (int i = 0; i < 20 && weak.IsAlive; i++) { GC.Collect(); GC.WaitForPendingFinalizers(); }
        Assert.False(weak.IsAlive, "the generated assembly's load context was not collected");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference CompileAndDispose()
    {
        var g = new Graph();
        var x = g.Placeholder([-1, 4], "x");
        var y = F.Relu(x) * 3.0;
        var s = new Session(g, new SessionOptions { UseCompileCache = false });
        s.Run(y, new Dictionary<Tensor, NDArray> { [x] = NDArray.Zeros(DType.Float32, 2, 4) });
        var exe = s.Compiled([y], new Dictionary<Tensor, NDArray> { [x] = NDArray.Zeros(DType.Float32, 2, 4) });
        var weak = new WeakReference(exe.LoadContext);
        s.Dispose();
        Assert.True(exe.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => s.Run(y, new Dictionary<Tensor, NDArray> { [x] = NDArray.Zeros(DType.Float32, 2, 4) }));
        return weak;
    }
}
