#:project ../src/Compiler/GraphNet.Compiler.csproj
#:project Shared/GraphNet.Examples.csproj
#:package ScottPlot@5.1.59
#:property PublishAot=false
// pytorch/examples' time_sequence_prediction (generate_sine_wave.py and train.py): 100 sine waves
// sin((t + shift) / 20) of 1,000 points (shifts in [-80, 80)); two LSTMCell(51) and a Linear(51, 1)
// stepped over each wave (999 steps, an F.Scan) and on for 1,000 future steps feeding each
// prediction back in (another); float64; MSE; LBFGS lr 0.8, 15 steps, each re-evaluating the
// closure as compiled steps; the first three waves are the test set. Prints what the original
// prints and draws each step's predictions (predict{step}.png, as the original's predict%d.pdf).
// The waves' shifts come from System.Random and the weights from GraphNet's generator, not NumPy's
// and PyTorch's, so the figures differ from the original's in their digits.
//   dotnet run -c Release examples/time_sequence_prediction.cs -- [--steps 15] [--out DIR] [--quick] [--mode deferred|eager]
using System.CommandLine;
using System.Diagnostics;
using GraphNet;
using GraphNet.Compiler;
using GraphNet.Examples;
using GraphNet.Nn;
using GraphNet.Train;
using ScottPlot;

var stepsOption = ExampleCli.Option("--steps", 15, "steps to run");
var outOption = ExampleCli.Option("--out", ".", "folder for the prediction plots predict{step}.png");
var quickOption = ExampleCli.Option("--quick", false, "a check in seconds: 2 steps of at most 4 iterations, 200 future steps, no plots");
var modeOption = ExampleCli.Choice("--mode", "deferred (compiled graph) or eager (op by op)", "deferred", "eager");
var command = new RootCommand("PyTorch time sequence prediction example (LSTMCell, LBFGS), ported to GraphNet")
{
    stepsOption, outOption, quickOption, modeOption,
};
return ExampleCli.Run(command, args, p => Main(p.GetValue(stepsOption), p.GetValue(outOption)!, p.GetValue(quickOption),
    p.GetValue(modeOption) == "eager"));

static int Main(int steps, string outDir, bool quick, bool eager)
{
    const int waves = 100, length = 1000;
    int future = quick ? 200 : 1000;
    if (quick) steps = Math.Min(steps, 2);
    // generate_sine_wave.py: np.random.seed(2); x = range(L) + randint(-4T, 4T, N); sin(x / T)
    var rng = new Random(2);
    var shifts = Enumerable.Range(0, waves).Select(_ => rng.Next(-80, 80)).ToArray();
    NDArray Part(int from, int to, int skip) => NDArray.From(Enumerable.Range(from, to - from)
        .SelectMany(i => Enumerable.Range(skip, length - 1).Select(t => Math.Sin((t + shifts[i]) / 20.0))).ToArray(), to - from, length - 1);
    var (input, target, testInput, testTarget) = (Part(3, waves, 0), Part(3, waves, 1), Part(0, 3, 0), Part(0, 3, 1));

    using var exec = new Executor(new Graph(seed: 0), eager ? ExecutionMode.Eager : ExecutionMode.Deferred);
    var seq = new Sequence();
    var optimizer = new LBFGS(seq, lr: 0.8, maxIter: quick ? 4 : 20);
    TensorSpec Waves(string name, int count) => new(DType.Float64, [count, length - 1], name);
    var closure = exec.Function([Waves("input", waves - 3), Waves("target", waves - 3)],
        xs => optimizer.Closure(F.MseLoss(seq.Forward(xs[0]), xs[1])));
    var predict = exec.Function([Waves("test_input", 3), Waves("test_target", 3)],
        xs =>
        {
            var pred = seq.Forward(xs[0], future);
            return [pred, F.MseLoss(F.Slice(pred, 1, 0, length - 1), xs[1])];
        });

    var clock = Stopwatch.StartNew();
    double trainLoss = double.NaN, testLoss = double.NaN, futureStep = double.NaN;
    for (int i = 0; i < steps; i++)
    {
        Console.WriteLine($"STEP:  {i}");
        optimizer.Step(() =>
        {
            var r = closure.Run([input, target]);
            Console.WriteLine($"loss: {r[0].Item()}");
            trainLoss = r[0].Item();
            return r;
        }, exec.Variables);
        // with torch.no_grad(): future = 1000; pred = seq(test_input, future=future)
        var outputs = predict.Run([testInput, testTarget], training: false);
        testLoss = outputs[1].Item();
        Console.WriteLine($"test loss: {testLoss}");
        futureStep = LargestStep(outputs[0], length - 1, future);
        if (!quick) Draw(outputs[0], length - 1, future, Path.Combine(outDir, $"predict{i}.png"));
    }
    Console.WriteLine($"test_loss={testLoss:G6}");
    Console.WriteLine($"train_loss={trainLoss:G6}");
    Console.WriteLine($"closure_evaluations={optimizer.FunctionEvaluations}");
    // A wave of period 2π·20 moves at most 0.05 a step: far larger steps mean the extrapolation broke up.
    Console.WriteLine($"future_max_step={futureStep:F4}");
    Console.WriteLine($"train_seconds={clock.Elapsed.TotalSeconds:F1}");
    return 0;
}

// The largest change between consecutive predicted points of the future part, over the test waves.
static double LargestStep(NDArray pred, int steps, int future)
{
    int width = steps + future;
    double largest = 0;
    for (int w = 0; w < 3; w++)
        for (int t = steps; t < width - 1; t++)
            largest = Math.Max(largest, Math.Abs(pred.GetDouble(w * width + t + 1) - pred.GetDouble(w * width + t)));
    return largest;
}

// The original's plot: each test wave's prediction over the input's steps (solid) and the future (dotted).
static void Draw(NDArray pred, int steps, int future, string path)
{
    var plot = new Plot();
    var colors = new[] { Colors.Red, Colors.Green, Colors.Blue };
    int width = steps + future;
    for (int w = 0; w < 3; w++)
    {
        double[] y = [.. Enumerable.Range(0, width).Select(t => pred.GetDouble(w * width + t))];
        var known = plot.Add.ScatterLine(Enumerable.Range(0, steps).Select(t => (double)t).ToArray(), y[..steps]);
        known.Color = colors[w]; known.LineWidth = 2; known.MarkerSize = 0;
        var ahead = plot.Add.ScatterLine(Enumerable.Range(steps, future).Select(t => (double)t).ToArray(), y[steps..]);
        ahead.Color = colors[w]; ahead.LineWidth = 2; ahead.MarkerSize = 0; ahead.LinePattern = LinePattern.Dotted;
    }
    plot.Title("Predict future values for time sequences\n(Dashlines are predicted values)");
    plot.XLabel("x"); plot.YLabel("y");
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    plot.SavePng(path, 1500, 500);
    Console.WriteLine($"plot: {Path.GetFullPath(path)}");
}

/// <summary>train.py's Sequence: LSTMCell(1, 51), LSTMCell(51, 51), Linear(51, 1), float64.</summary>
sealed class Sequence : Module
{
    private const int Hidden = 51;
    private readonly LSTMCell lstm1 = new(1, Hidden, dtype: DType.Float64);
    private readonly LSTMCell lstm2 = new(Hidden, Hidden, dtype: DType.Float64);
    private readonly Linear linear = new(Hidden, 1, dtype: DType.Float64);

    public override Tensor Forward(Tensor input) => Forward(input, 0);

    /// <summary>Outputs [N, T + future]: a step of the cells per input point, then per future step on the last output.</summary>
    public Tensor Forward(Tensor input, int future)
    {
        using var _ = Enter(input);
        int n = input.Shape[0], steps = input.Shape[1];
        var zeros = input.Graph.Constant(NDArray.Zeros(DType.Float64, n, Hidden), "zeros");
        Tensor[] Cells(Tensor[] s, Tensor x)
        {
            var (h1, c1) = lstm1.Forward(x, (s[0], s[1]));
            var (h2, c2) = lstm2.Forward(h1, (s[2], s[3]));
            return [h1, c1, h2, c2, linear.Forward(h2)];
        }
        // for input_t in input.split(1, dim=1): ...
        var (state, ys) = F.Scan((s, x) => { var r = Cells(s, x[0]); return (r[..4], [r[4]]); },
            [zeros, zeros, zeros, zeros], [F.Reshape(input, n, steps, 1)], axis: 1);
        var outputs = F.Reshape(ys[0], n, steps);
        if (future == 0) return outputs;
        // for i in range(future): the last output is the next input
        var last = F.Slice(outputs, 1, steps - 1, 1);
        var (_, more) = F.Scan((s, _) => { var r = Cells(s, s[4]); return (r, [r[4]]); }, [.. state, last], [], length: future);
        // The outputs are stacked along the loop's axis 0: [future, N, 1].
        return F.Concat([outputs, F.Reshape(F.Transpose(more[0], 1, 0, 2), n, future)], 1);
    }
}
