#:project ../src/Compiler/GraphNet.Compiler.csproj
#:project Shared/GraphNet.Examples.csproj
#:package ScottPlot@5.1.59
// The book's invitation: train the same CNN with each optimizer and watch training time,
// convergence and final accuracy change.
//   dotnet run -c Release examples/optimizers.cs -- [--help] [--data DIR] [--epochs N] [--limit N] [--seed S] [--out FILE.png]
using System.CommandLine;
using System.Diagnostics;
using GraphNet;
using GraphNet.Compiler;
using GraphNet.Examples;
using GraphNet.Nn;
using GraphNet.Runtime.Data;
using GraphNet.Train;
using ScottPlot;

var dataOption = ExampleCli.Optional<string>("--data", "folder of the MNIST or Fashion-MNIST IDX files (default: found)");
var epochsOption = ExampleCli.Option("--epochs", 1, "passes over the training set per optimizer");
var limitOption = ExampleCli.Optional<int?>("--limit", "train on the first N images only");
var seedOption = ExampleCli.Option("--seed", 1, "seed of the weights, dropout and shuffling (the same for every optimizer)");
var outOption = ExampleCli.Option("--out", "optimizers.png", "where to write the plot of the loss curves");
var command = new RootCommand("Trains the book's CNN with each optimizer and plots their loss curves")
{
    dataOption, epochsOption, limitOption, seedOption, outOption,
};
return ExampleCli.Run(command, args, parsed => Compare(parsed.GetValue(dataOption), parsed.GetValue(epochsOption),
    parsed.GetValue(limitOption), parsed.GetValue(seedOption), parsed.GetValue(outOption)!));

int Compare(string? dataArg, int epochs, int? limit, int seed, string outPng)
{
    var dir = Mnist.FindDirectory(dataArg);
    var train = Mnist.Load(dir, train: true);
    if (limit is int n) train = train.Take(n);
    var test = Mnist.Load(dir, train: false);
    Console.WriteLine($"data: {dir}, {train.Count} training and {test.Count} test images, {epochs} epoch(s), batch 32");

    // Learning rates that suit each rule on this CNN (Adadelta's is the book's).
    (string Name, Func<Optimizer> Make)[] optimizers =
    [
        ("SGD (momentum 0.9)", () => new Sgd(0.01, momentum: 0.9)),
        ("Adagrad", () => new Adagrad(0.01)),
        ("Adadelta", () => new Adadelta(0.5)),
        ("RMSprop", () => new RmsProp(0.001)),
        ("Adam", () => new Adam(0.001)),
    ];

    var results = new List<(string Name, double Lr, double Seconds, double FinalLoss, double Accuracy,
        List<(int Step, double Seconds, double Loss)> Curve)>();
    foreach (var (name, make) in optimizers)
    {
        var g = new Graph(seed);
        using var exec = new Executor(g, ExecutionMode.Deferred);
        var conv1 = new Conv2d(g, "conv1", 1, 32, 3);
        var conv2 = new Conv2d(g, "conv2", 32, 64, 3);
        var fc1 = new Linear(g, "fc1", 9216, 128);
        var fc2 = new Linear(g, "fc2", 128, 10);
        Tensor Forward(Tensor x)
        {
            var h = F.MaxPool2d(F.Relu(conv2.Forward(F.Relu(conv1.Forward(x)))), 2);
            h = F.Dropout(F.Relu(fc1.Forward(F.Flatten(F.Dropout(h, 0.25)))), 0.5);
            return F.LogSoftmax(fc2.Forward(h), 1);
        }
        var optimizer = make();
        var images = TensorSpec.Float("images", -1, 1, 28, 28);
        var step = exec.Function([images, TensorSpec.Int64("labels", -1)], xs =>
        {
            var loss = F.NllLoss(Forward(xs[0]), xs[1]);
            return [loss, optimizer.Minimize(loss)];
        });
        var predict = exec.Function([images], xs => [F.ArgMax(Forward(xs[0]), 1)]);

        Console.WriteLine($"{name}: lr={optimizer.LearningRate}");
        var curve = new List<(int, double, double)>();
        var loader = new DataLoader(train, 32, shuffle: true, seed: seed);
        var clock = Stopwatch.StartNew();
        int steps = 0; double recent = 0;
        for (int epoch = 1; epoch <= epochs; epoch++)
            foreach (var batch in loader.Epoch(epoch))
            {
                double loss = step.Run([batch.Images, batch.Labels])[0].Item();
                curve.Add((++steps, clock.Elapsed.TotalSeconds, loss));
                recent = curve.Count < 50 ? curve.Average(c => c.Item3) : curve.TakeLast(50).Average(c => c.Item3);
                if (steps % Math.Max(1, loader.BatchCount / 5) == 0)
                    Console.WriteLine($"  step {steps,5}: loss {recent:F4} ({clock.Elapsed.TotalSeconds:F1} s)");
            }
        double seconds = clock.Elapsed.TotalSeconds;
        int correct = 0;
        foreach (var batch in new DataLoader(test, 1000, shuffle: false).Epoch(0))
        {
            var p = predict.Run([batch.Images], training: false)[0].As<long>();
            var l = batch.Labels.As<long>();
            for (int i = 0; i < batch.Size; i++) if (p[i] == l[i]) correct++;
        }
        results.Add((name, optimizer.LearningRate, seconds, recent, (double)correct / test.Count, curve));
    }

    Console.WriteLine();
    Console.WriteLine($"{"optimizer",-20} {"lr",8} {"seconds",8} {"final loss",11} {"test accuracy",14}");
    foreach (var r in results)
        Console.WriteLine($"{r.Name,-20} {r.Lr,8} {r.Seconds,8:F1} {r.FinalLoss,11:F4} {r.Accuracy,14:F4}");

    // Training loss (moving average over 50 steps) against steps and against seconds.
    var multiplot = new Multiplot();
    multiplot.AddPlots(2);
    var bySteps = multiplot.GetPlot(0);
    var bySeconds = multiplot.GetPlot(1);
    foreach (var r in results)
    {
        var smooth = r.Curve.Select((c, i) => r.Curve.Skip(Math.Max(0, i - 49)).Take(Math.Min(50, i + 1)).Average(x => x.Loss)).ToArray();
        var a = bySteps.Add.ScatterLine(r.Curve.Select(c => (double)c.Step).ToArray(), smooth);
        a.LegendText = $"{r.Name} (lr {r.Lr})";
        var b = bySeconds.Add.ScatterLine(r.Curve.Select(c => c.Seconds).ToArray(), smooth);
        b.LegendText = $"{r.Name} ({r.Seconds:F0} s, acc {r.Accuracy:F3})";
        b.Color = a.Color;
    }
    bySteps.Title("Training loss against steps"); bySteps.XLabel("step"); bySteps.YLabel("loss (moving average of 50 steps)");
    bySeconds.Title("Training loss against time (the first step includes compiling)");
    bySeconds.XLabel("seconds"); bySeconds.YLabel("loss (moving average of 50 steps)");
    bySteps.ShowLegend(Alignment.UpperRight); bySeconds.ShowLegend(Alignment.UpperRight);
    // The loss starts near ln 10 = 2.3; the first steps of Adagrad and RMSprop overshoot far above it.
    bySteps.Axes.SetLimitsY(0, 2.6); bySeconds.Axes.SetLimitsY(0, 2.6);
    multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
    multiplot.SavePng(outPng, 1600, 650);
    Console.WriteLine($"plot: {Path.GetFullPath(outPng)}");
    return 0;
}
