using GraphNet.Nn;
using GraphNet.Runtime;

namespace GraphNet.Compiler.Tests;

/// <summary>
/// A PyTorch-style model run and trained: Train()/Eval() switch dropout and batch normalization on
/// the next run with no recompilation, and its state_dict goes to and from safetensors by PyTorch's names.
/// </summary>
public class ModuleStateTests
{
    private static readonly float[] X = [0.5f, -1f, 2f, 0.3f, 1.5f, -0.7f, -2f, 0.9f];

    private static (Executor, Sequential, Executor.StepFunction) Model(ExecutionMode mode)
    {
        var exec = new Executor(new Graph(seed: 3), mode, new SessionOptions { UseCompileCache = false });
        var model = new Sequential(new Linear(2, 3), new BatchNorm1d(3), new Dropout(0.5));
        var f = exec.Function([TensorSpec.Float("x", [-1, 2])], xs => [model.Forward(xs[0])]);
        return (exec, model, f);
    }

    // The model in evaluation by its definition: x Wᵀ + b, then (z − running_mean)/sqrt(running_var + eps)·γ + β.
    private static double[] EvalByHand(IReadOnlyDictionary<string, NDArray> s, float[] x)
    {
        var y = new double[x.Length / 2 * 3];
        for (int n = 0; n < x.Length / 2; n++)
            for (int j = 0; j < 3; j++)
            {
                double z = s["0.bias"].GetDouble(j) + x[2 * n] * s["0.weight"].GetDouble(2 * j) + x[2 * n + 1] * s["0.weight"].GetDouble(2 * j + 1);
                y[n * 3 + j] = (z - s["1.running_mean"].GetDouble(j)) / Math.Sqrt(s["1.running_var"].GetDouble(j) + 1e-5)
                    * s["1.weight"].GetDouble(j) + s["1.bias"].GetDouble(j);
            }
        return y;
    }

    [Theory]
    [InlineData(ExecutionMode.Deferred), InlineData(ExecutionMode.Eager)]
    public void EvalSwitchesDropoutAndBatchNormOnTheNextRunWithoutRecompiling(ExecutionMode mode)
    {
        var (exec, model, f) = Model(mode);
        using var _ = exec;
        var x = NDArray.From(X, 4, 2);
        var train = f.Run([x])[0].As<float>();
        Assert.Contains(train, v => v == 0); // dropout zeroed some, and scaled the rest by 2
        model.Eval();
        var eval = f.Run([x])[0].As<float>();
        var byHand = EvalByHand(StateDicts.Get(model, exec.Variables), X);
        for (int i = 0; i < byHand.Length; i++) Assert.Equal(byHand[i], eval[i], 5);
        model.Train();
        Assert.Contains(f.Run([x])[0].As<float>(), v => v == 0);
        if (exec.Session is { } s) Assert.Equal(1, s.CompileCount);
    }

    [Fact]
    public void AStateDictSavedAndLoadedGivesTheSameModelAndTheSameOutputs()
    {
        var path = Path.Combine(Path.GetTempPath(), $"graphnet-state-{Guid.NewGuid():N}.safetensors");
        try
        {
            var (exec, model, f) = Model(ExecutionMode.Deferred);
            using (exec)
            {
                f.Run([NDArray.From(X, 4, 2)]); // moves the running statistics off their initial values
                model.Eval();
                StateDicts.Save(model, exec.Variables, path);
            }
            var saved = SafeTensors.Read(path).Tensors;
            string[] keys = ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var"];
            Assert.Equal(keys.Order(), saved.Keys.Order());
            var (exec2, model2, f2) = Model(ExecutionMode.Eager);
            using (exec2)
            {
                model2.Eval();
                f2.Run([NDArray.From(X, 4, 2)]); // binds the model (its variables are made on its first run)
                StateDicts.Load(model2, exec2.Variables, path);
                var y = f2.Run([NDArray.From(X, 4, 2)])[0].As<float>();
                var byHand = EvalByHand(saved, X);
                for (int i = 0; i < byHand.Length; i++) Assert.Equal(byHand[i], y[i], 5);
            }
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void APyTorchStateDictLoadsByItsNamesWithItsBatchCounterAndFloat64Values()
    {
        // What safetensors.torch.save_file(nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)).state_dict()) holds.
        var state = new Dictionary<string, NDArray>
        {
            ["0.weight"] = NDArray.From([0.1, -0.2, 0.3, 0.4, -0.5, 0.6], 3, 2),
            ["0.bias"] = NDArray.From([0.01, 0.02, -0.03], 3),
            ["1.weight"] = NDArray.From([1.5, 0.5, 2.0], 3),
            ["1.bias"] = NDArray.From([0.1, 0.0, -0.1], 3),
            ["1.running_mean"] = NDArray.From([0.2, -0.1, 0.05], 3),
            ["1.running_var"] = NDArray.From([0.9, 1.2, 0.4], 3),
            ["1.num_batches_tracked"] = NDArray.From([7L]),
        };
        var (exec, model, f) = Model(ExecutionMode.Deferred);
        using var _ = exec;
        model.Eval();
        StateDicts.Load(model, exec.Variables, state);
        var y = f.Run([NDArray.From(X, 4, 2)])[0].As<float>();
        var byHand = EvalByHand(state, X);
        for (int i = 0; i < byHand.Length; i++) Assert.Equal(byHand[i], y[i], 5);
        Assert.Equal(DType.Float32, exec.Variables.Get("0.weight").DType);
    }

    [Fact]
    public void AStateDictThatDoesNotMatchNamesEveryProblemAndChangesNothing()
    {
        var (exec, model, f) = Model(ExecutionMode.Deferred);
        using var _ = exec;
        f.Run([NDArray.From(X, 4, 2)]);
        var before = StateDicts.Get(model, exec.Variables);
        var state = new Dictionary<string, NDArray>(before)
        {
            ["0.weight"] = NDArray.Zeros(DType.Float32, [2, 3]), ["2.weight"] = NDArray.Zeros(DType.Float32, [1]),
        };
        state.Remove("1.bias");
        var e = Assert.Throws<GraphException>(() => StateDicts.Load(model, exec.Variables, state));
        Assert.Contains("'0.weight' has shape [2,3] there but [3,2]", e.Message);
        Assert.Contains("'1.bias' [3] is missing", e.Message);
        Assert.Contains("'2.weight' is not in the model", e.Message);
        Assert.Equal(before["0.bias"].As<float>(), exec.Variables.Get("0.bias").As<float>());
        StateDicts.Load(model, exec.Variables, state.Where(kv => kv.Key != "2.weight" && kv.Key != "0.weight")
            .ToDictionary(kv => kv.Key, kv => kv.Value), strict: false); // non-strict loads what matches
    }
}
