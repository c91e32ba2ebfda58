#:project ../src/Compiler/GraphNet.Compiler.csproj
#:property PublishAot=false
// The book's first-chapter exercise as a define-then-run script: a CNN trained on (Fashion-)MNIST
// with Adadelta at a fixed learning rate of 0.5.
//   dotnet run -c Release examples/mnist_cnn.cs -- [--data DIR] [--epochs N] [--batch-size B] [--lr X]
//       [--optimizer sgd|adagrad|adadelta|rmsprop|adam] [--limit N] [--seed S] [--backend compiled|interpreter|ilgpu] [--accelerator auto|cuda|opencl|cpu] [--mode deferred|eager] [--profile trace.json] [--save PATH] [--resume PATH]
using System.Diagnostics;
using System.Globalization;
using GraphNet;
using GraphNet.Compiler;
using GraphNet.Nn;
using GraphNet.Runtime.Data;
using GraphNet.Runtime.Devices;
using GraphNet.Train;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var opt = Args.Parse(args);

// ---- define: the model once; the mode is the one line that differs ----
var g = new Graph(seed: opt.Seed);
var backend = opt.Backend switch
{
    "compiled" => Backend.CSharp,
    "interpreter" => Backend.Interpreter,
    "ilgpu" => Backend.Ilgpu,
    _ => throw new ArgumentException($"unknown backend '{opt.Backend}': use compiled, interpreter or ilgpu"),
};
var mode = opt.Mode switch
{
    "deferred" => ExecutionMode.Deferred,
    "eager" => ExecutionMode.Eager,
    _ => throw new ArgumentException($"unknown mode '{opt.Mode}': use deferred or eager"),
};
using var exec = new Executor(g, mode, new SessionOptions
{
    Backend = backend,
    Accelerator = Devices.Parse(opt.Accelerator),
    ProfilePath = opt.Profile ?? new SessionOptions().ProfilePath, // --profile, else $GRAPHNET_PROFILE
});

var conv1 = new Conv2d(g, "conv1", 1, 32, 3);
var conv2 = new Conv2d(g, "conv2", 32, 64, 3);
var fc1 = new Linear(g, "fc1", 9216, 128);
var fc2 = new Linear(g, "fc2", 128, 10);

Tensor Forward(Tensor images)
{
    var h = F.Relu(conv1.Forward(images));
    h = F.Relu(conv2.Forward(h));
    h = F.MaxPool2d(h, 2);
    h = F.Dropout(h, 0.25);
    h = F.Flatten(h);
    h = F.Relu(fc1.Forward(h));
    h = F.Dropout(h, 0.5);
    return F.LogSoftmax(fc2.Forward(h), 1);
}

Optimizer optimizer = opt.Optimizer switch
{
    "sgd" => new Sgd(opt.Lr ?? 0.01, momentum: 0.9),
    "adagrad" => new Adagrad(opt.Lr ?? 0.01),
    "adadelta" => new Adadelta(opt.Lr ?? 0.5),
    "rmsprop" => new RmsProp(opt.Lr ?? 0.001),
    "adam" => new Adam(opt.Lr ?? 0.001),
    _ => throw new ArgumentException($"unknown optimizer '{opt.Optimizer}': use sgd, adagrad, adadelta, rmsprop or adam"),
};
var imageSpec = TensorSpec.Float("images", -1, 1, 28, 28);
var trainStep = exec.Function([imageSpec, TensorSpec.Int64("labels", -1)], xs =>
{
    var loss = F.NllLoss(Forward(xs[0]), xs[1]);
    return [loss, optimizer.Minimize(loss)];
});
var predict = exec.Function([imageSpec], xs => [F.ArgMax(Forward(xs[0]), 1)]);
if (opt.Resume is { } resume)
{
    if (mode == ExecutionMode.Eager) throw new ArgumentException("--resume needs --mode deferred: eager mode makes the optimizer's slots at its first step");
    Saver.Restore(exec, resume);
    Console.WriteLine($"resumed from {resume}");
}

// ---- run: feed batches through the step function ----
var dataDir = Mnist.FindDirectory(opt.Data);
var train = Mnist.Load(dataDir, train: true);
if (opt.Limit is int limit) train = train.Take(limit);
var test = Mnist.Load(dataDir, train: false);
var (mean, std) = Mnist.TrainStatistics(dataDir);
Console.WriteLine($"data: {dataDir} ({train.Count} training, {test.Count} test images, normalized with mean {mean:F4}, std {std:F4})");
Console.WriteLine($"model: {g.TrainableVariables.Sum(v => v.Shape.StaticSize):N0} parameters; optimizer {optimizer.Name} lr={optimizer.LearningRate}, batch {opt.BatchSize}, mode {opt.Mode}" + (mode == ExecutionMode.Deferred ? $", backend {opt.Backend}" : "")
    + (backend == Backend.Ilgpu && mode == ExecutionMode.Deferred ? $" on {Devices.Get(Devices.Parse(opt.Accelerator)).Name}" : ""));
var loader = new DataLoader(train, opt.BatchSize, shuffle: true, seed: opt.Seed);
var testLoader = new DataLoader(test, 1000, shuffle: false);
double trainSeconds = 0, accuracy = 0;

for (int epoch = 1; epoch <= opt.Epochs; epoch++)
{
    var clock = Stopwatch.StartNew();
    double lossSum = 0; int seen = 0, batches = 0;
    int reportEvery = Math.Max(1, loader.BatchCount / 10);
    foreach (var batch in loader.Epoch(epoch))
    {
        var r = trainStep.Run([batch.Images, batch.Labels]);
        lossSum += r[0].Item() * batch.Size; seen += batch.Size; batches++;
        if (batches % reportEvery == 0 || batches == loader.BatchCount)
            Console.WriteLine($"  epoch {epoch} [{seen,6}/{train.Count}] loss {lossSum / seen:F4}  {seen / clock.Elapsed.TotalSeconds:F0} samples/s");
    }
    trainSeconds += clock.Elapsed.TotalSeconds;

    int correct = 0;
    foreach (var batch in testLoader.Epoch(0))
    {
        var p = predict.Run([batch.Images], training: false)[0].As<long>();
        var l = batch.Labels.As<long>();
        for (int i = 0; i < batch.Size; i++) if (p[i] == l[i]) correct++;
    }
    accuracy = (double)correct / test.Count;
    Console.WriteLine($"epoch {epoch}: train loss {lossSum / seen:F4}, test accuracy {accuracy:F4}, {clock.Elapsed.TotalSeconds:F1} s");
    if (opt.Save is { } save)
    {
        Saver.Save(exec, save);
        Console.WriteLine($"saved weights and optimizer state to {save}");
    }
}
if (opt.Profile is not null) Console.WriteLine($"profile: {Path.GetFullPath(opt.Profile)} (written at exit; open it in https://ui.perfetto.dev)");
Console.WriteLine($"test_accuracy={accuracy:F4}");
Console.WriteLine($"train_seconds={trainSeconds:F1}");

sealed record Args(string? Data, int Epochs, int BatchSize, double? Lr, string Optimizer, int? Limit, int Seed, string Backend = "compiled", string Mode = "deferred", string? Profile = null, string? Save = null, string? Resume = null, string Accelerator = "auto")
{
    public static Args Parse(string[] a)
    {
        var r = new Args(null, 1, 64, null, "adadelta", null, 1); // batch 64, as PyTorch's MNIST example
        for (int i = 0; i < a.Length; i++)
        {
            string Next() => i + 1 < a.Length ? a[++i] : throw new ArgumentException($"{a[i]} needs a value");
            r = a[i] switch
            {
                "--data" => r with { Data = Next() },
                "--epochs" => r with { Epochs = int.Parse(Next()) },
                "--batch-size" => r with { BatchSize = int.Parse(Next()) },
                "--lr" => r with { Lr = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--optimizer" => r with { Optimizer = Next().ToLowerInvariant() },
                "--limit" => r with { Limit = int.Parse(Next()) },
                "--seed" => r with { Seed = int.Parse(Next()) },
                "--backend" => r with { Backend = Next() },
                "--accelerator" => r with { Accelerator = Next() },
                "--mode" => r with { Mode = Next() },
                "--profile" => r with { Profile = Next() },
                "--save" => r with { Save = Next() },
                "--resume" => r with { Resume = Next() },
                "-h" or "--help" => throw new ArgumentException("options: --data DIR --epochs N --batch-size B --lr X --optimizer sgd|adagrad|adadelta|rmsprop|adam --limit N --seed S --backend compiled|interpreter|ilgpu --accelerator auto|cuda|opencl|cpu --mode deferred|eager --profile trace.json --save PATH --resume PATH"),
                _ => throw new ArgumentException($"unknown option '{a[i]}'; try --help"),
            };
        }
        return r;
    }
}
