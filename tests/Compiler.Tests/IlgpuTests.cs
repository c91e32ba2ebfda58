using GraphNet.Bench;
using GraphNet.Nn;

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
    public void RecurrentLayersMatchTheInterpreter()
    {
        var rng = new Random(3);
        var g = new Graph(seed: 2);
        var x = g.Placeholder([-1, 4, 3], "x");
        var (o1, h1) = new RNN(g, "rnn", 3, 4).Forward(x);
        var (o2, _) = new LSTM(g, "lstm", 3, 4).Forward(x);
        var (o3, h3) = new GRU(g, "gru", 3, 4).Forward(x);
        var loss = F.Sum(o1) + F.Sum(F.Square(o2)) + F.Sum(o3 * 0.5) + F.Sum(h1 * h3);
        var grads = F.Gradients([loss], g.TrainableVariables.Append(x).ToList()).Cast<Tensor>().ToArray();
        BackendParity.Check(g, [loss, .. grads], new() { [x] = BackendParity.Random(rng, [3, 4, 3]) }, "rnn/lstm/gru", options: Ilgpu);
    }

    public static TheoryData<int> FuzzBatches => new(Enumerable.Range(0, 4));

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
}
