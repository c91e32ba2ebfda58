using GraphNet.Bench;
using GraphNet.Runtime.Devices;

namespace GraphNet.Compiler.Tests;

/// <summary>
/// The ILGPU backend on ILGPU's CPU accelerator (what CI has): every op, random graphs, the
/// book's CNN training, device-resident variables and both GEMM kernels (an absent accelerator: BadInputTests).
/// Sizes are small: the CPU accelerator simulates GPU threads.
/// </summary>
public class IlgpuTests
{
    private static readonly SessionOptions Ilgpu = BackendParity.Ilgpu;

    [Theory, MemberData(nameof(CompiledOpTests.Names), MemberType = typeof(CompiledOpTests))]
    public void EveryOpForwardAndBackwardMatchesTheInterpreter(string name) => CompiledOpTests.CheckCase(name, Ilgpu);

    [Fact]
    public void RecurrentLayersMatchTheInterpreter() => CompiledOpTests.CheckRecurrent(Ilgpu, 4);

    [Fact]
    public void AStackedBidirectionalLstmWithStatesMatchesTheInterpreter() => RecurrentStackTests.CheckStack(Ilgpu);

    [Fact]
    public void EncoderAndDecoderLayersMatchTheInterpreter() => AttentionTests.CheckLayers(Ilgpu);

    public static TheoryData<int> FuzzBatches => new(Enumerable.Range(0, GraphNet.Tests.TestCulture.Batches(4)));

    [Theory, MemberData(nameof(FuzzBatches))]
    public void RandomGraphsMatchTheInterpreter(int batch)
    {
        var failures = new List<string>();
        for (int seed = 1 + batch * 10; seed <= 10 + batch * 10; seed++)
            if (Fuzz.Compare(seed, backend: Ilgpu) is { } problem) failures.Add($"seed {seed}: {problem}");
        Assert.True(failures.Count == 0, string.Join("\n", failures) + "\n(reproduce: dotnet run -c Release --project bench -- fuzz --backend ilgpu --count 1 --seed SEED)");
    }

    [Fact]
    public void TheBooksCnnTrainsLikeTheInterpreterWithDropout()
    {
        var a = BenchModel.Cnn();
        var b = BenchModel.Cnn();
        using var interp = new Session(a.Graph, new SessionOptions { Backend = Backend.Interpreter });
        using var device = new Session(b.Graph, Ilgpu);
        for (int step = 0; step < 3; step++)
        {
            double la = interp.Run([a.Loss, a.TrainStep], a.Batch(4, seed: step))[0].Item();
            double lb = device.Run([b.Loss, b.TrainStep], b.Batch(4, seed: step))[0].Item();
            Assert.True(Math.Abs(la - lb) <= 1e-4 * Math.Abs(la), $"step {step}: interpreter loss {la}, ilgpu {lb}");
        }
        // Weights and Adadelta's slots were updated on the device; reading them copies them back.
        foreach (var name in new[] { "fc1.weight", "conv1.weight", "conv2.bias" })
        {
            var wa = interp.GetVariable(name).As<float>();
            var wb = device.GetVariable(name).As<float>();
            for (int i = 0; i < wa.Length; i += 97) Assert.True(Math.Abs(wa[i] - wb[i]) <= 1e-5 + 1e-4 * Math.Abs(wa[i]), $"{name}[{i}]: {wa[i]} vs {wb[i]}");
        }
    }

    [Fact]
    public void VariablesStayOnTheDeviceAndFollowHostWrites()
    {
        var g = new Graph(seed: 1);
        var w = g.Variable("w", [3], new ConstantInit(1.0));
        var x = g.Placeholder([3], "x");
        var step = F.Group(F.Assign(w, w * x));
        using var s = new Session(g, Ilgpu);
        var feeds = new Dictionary<Tensor, NDArray> { [x] = NDArray.From(new float[] { 2, 3, 4 }, 3) };
        s.Run(step, feeds);
        s.Run(step, feeds);
        Assert.Equal([4f, 9f, 16f], s.GetVariable("w").As<float>());
        // A host write (SetVariable, a restored checkpoint) is uploaded before the next run.
        s.SetVariable("w", NDArray.From(new float[] { 1, 1, 2 }, 3));
        Assert.Equal([2f, 3f, 8f], s.Run(w * x, feeds).As<float>());
        s.Run(step, feeds);
        var path = Path.Combine(Path.GetTempPath(), $"graphnet-ilgpu-{Guid.NewGuid():N}.safetensors");
        try
        {
            Saver.Save(s, path);
            using var cpu = new Session(g);
            Saver.Restore(cpu, path);
            Assert.Equal([2f, 3f, 8f], cpu.GetVariable("w").As<float>());
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData("matmul"), InlineData("matmul_tb"), InlineData("matmul_batched_shared"), InlineData("conv2d"), InlineData("conv2d_groups_dilation"), InlineData("conv_transpose2d")]
    public void TheSharedMemoryTiledGemmMatchesTheInterpreter(string name)
    {
        // The tiled kernel is the GPU default; on the CPU accelerator (4x4 tiles) it runs only here, at test sizes.
        var c = CompiledOpTests.Cases.Single(k => k.Name == name);
        var rng = new Random(7);
        var g = new Graph(seed: 5);
        var inputs = c.Shapes.Select((s, i) => g.Placeholder(s, "x" + i)).ToArray();
        var y = c.Build(inputs);
        var loss = F.Sum(y * y);
        var grads = F.Gradients([loss], inputs).Cast<Tensor>().ToArray();
        var feeds = inputs.Select((p, i) => (p, BackendParity.Random(rng, c.Shapes[i].Select(d => d == -1 ? 2 : d).ToArray()))).ToDictionary(t => t.p, t => t.Item2);
        using var interp = new Session(g, new SessionOptions { Backend = Backend.Interpreter });
        using var device = new Session(g, Ilgpu);
        Tensor[] fetches = [y, .. grads];
        var exe = (IlgpuExecutable)device.Compiled(fetches, feeds);
        exe.UseTiledGemm = true;
        var expected = interp.Run(fetches, feeds);
        var actual = device.Run(fetches, feeds);
        for (int i = 0; i < fetches.Length; i++)
            for (int j = 0; j < expected[i].Size; j++)
                Assert.True(Math.Abs(expected[i].GetDouble(j) - actual[i].GetDouble(j)) <= 1e-5 + 1e-4 * Math.Abs(expected[i].GetDouble(j)),
                    $"{name} fetch {i} element {j}: {expected[i].GetDouble(j)} vs {actual[i].GetDouble(j)}");
    }

    [Fact]
    public void TheGeneratedKernelsAreGridStrided()
    {
        var m = BenchModel.Mlp();
        using var s = new Session(m.Graph, Ilgpu);
        var exe = s.Compiled([m.Loss, m.TrainStep], m.Batch(8));
        Assert.IsType<IlgpuExecutable>(exe);
        Assert.Contains("e += a.Stride", exe.Report.Source);
        Assert.Contains("LoadAutoGroupedKernel", exe.Report.Source);
        // Launches never ask for more threads than the accelerator runs at once.
        Assert.Contains("c.Extent(a.Size)", exe.Report.Source);
        // Runs at any batch size from one compilation.
        foreach (int batch in new[] { 8, 3, 8 }) s.Run([m.Loss, m.TrainStep], m.Batch(batch));
        Assert.Equal(1, s.CompileCount);
    }

    [Fact]
    public void EveryKernelCompilesToPtxForTheH200()
    {
        // ILGPU's CPU accelerator runs kernels as .NET code, so only a GPU backend's compiler
        // shows whether they are valid device code (math intrinsics, ref helpers, 64-bit hashes).
        // The PTX backend runs on the CPU: compile every library kernel and every generated one.
        foreach (var m in typeof(DeviceKernels).GetMethods(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static))
            AssertPtx(m, Devices.CompileToPtx(m, explicitlyGrouped: m.Name == nameof(DeviceKernels.GemmTiled)));
        var cnn = BenchModel.Cnn();
        using var s = new Session(cnn.Graph, Ilgpu);
        var exe = (IlgpuExecutable)s.Compiled([cnn.Loss, cnn.TrainStep], cnn.Batch(2));
        Assert.True(exe.KernelMethods.Count >= exe.Kernels.Count(k => k.Anchor is null), "every loop kernel is a method");
        foreach (var m in exe.KernelMethods) AssertPtx(m, Devices.CompileToPtx(m, explicitlyGrouped: false));
        // Every pointwise function of the table, forward and backward, in one graph.
        var g = new Graph();
        var x = g.Placeholder([-1, 8], "x");
        var y = Pointwise.Unary.Aggregate(x, (acc, f) => acc + F.Unary(f, F.Abs(x) + 0.5, 0.1))
              + Pointwise.Binary.Where(f => !f.Name.EndsWith("_grad")).Aggregate(x, (acc, f) => acc + F.Binary(f, F.Abs(x) + 0.5, x * 0.5));
        var labels = g.Placeholder(DType.Int64, [-1], "labels");
        var loss = F.Sum(F.Dropout(y, 0.3)) + F.NllLoss(F.LogSoftmax(y, 1), labels);
        using var s2 = new Session(g, Ilgpu);
        var exe2 = (IlgpuExecutable)s2.Compiled([loss, .. F.Gradients([loss], [x]).Cast<Tensor>()], new Dictionary<Tensor, NDArray> { [x] = NDArray.Zeros(DType.Float32, 2, 8), [labels] = NDArray.From(new long[] { 1, 2 }, 2) });
        foreach (var m in exe2.KernelMethods) AssertPtx(m, Devices.CompileToPtx(m, explicitlyGrouped: false));
    }

    /// <summary>
    /// A kernel's PTX is a CUDA entry point of that name taking the method's parameters, and it writes to global
    /// memory (a kernel that stores nothing computed nothing) and returns.
    /// </summary>
    private static void AssertPtx(System.Reflection.MethodInfo m, string ptx)
    {
        Assert.Matches(@"(?m)^\.version \d+\.\d+", ptx);
        Assert.Matches(@"\.target sm_\d+", ptx);
        var entry = System.Text.RegularExpressions.Regex.Match(ptx, @"\.visible \.entry Kernel_" + m.Name + @"\(([^)]*)\)");
        Assert.True(entry.Success, $"{m.Name}: no entry point named Kernel_{m.Name} in its PTX");
        int parameters = System.Text.RegularExpressions.Regex.Matches(entry.Groups[1].Value, @"\.param ").Count;
        Assert.True(parameters == m.GetParameters().Length, $"{m.Name}: {parameters} PTX parameters for {m.GetParameters().Length} in C#");
        Assert.Matches(@"\b(st|atom|red)\.(global\.)?[a-z]", ptx);
        Assert.Contains("ret;", ptx);
    }
}
