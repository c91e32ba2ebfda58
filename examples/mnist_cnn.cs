#:project ../src/Compiler/GraphNet.Compiler.csproj
#:project Shared/GraphNet.Examples.csproj
#:property PublishAot=false
// The book's first-chapter exercise as a define-then-run script: a CNN trained on (Fashion-)MNIST
// with Adadelta at a fixed learning rate of 0.5.
//   dotnet run -c Release examples/mnist_cnn.cs -- [--help] [--data DIR] [--epochs N] [--batch-size B] [--lr X]
//       [--optimizer sgd|adagrad|adadelta|rmsprop|adam] [--limit N] [--seed S] [--backend compiled|interpreter|ilgpu]
//       [--accelerator auto|cuda|opencl|cpu] [--mode deferred|eager] [--profile trace.json] [--save PATH] [--resume PATH]
using System.CommandLine;
using System.Diagnostics;
using GraphNet;
using GraphNet.Compiler;
using GraphNet.Examples;
using GraphNet.Nn;
using GraphNet.Runtime.Data;
using GraphNet.Runtime.Devices;
using GraphNet.Train;

var dataOption = ExampleCli.Optional<string>("--data", "folder of the MNIST or Fashion-MNIST IDX files (default: found)");
var epochsOption = ExampleCli.Option("--epochs", 1, "passes over the training set");
var batchOption = ExampleCli.Option("--batch-size", 64, "images per step, as PyTorch's MNIST example");
var lrOption = ExampleCli.Optional<double?>("--lr", "learning rate (default: the optimizer's: Adadelta 0.5, SGD 0.01, ...)");
var optimizerOption = ExampleCli.Choice("--optimizer", "update rule", "adadelta", "sgd", "adagrad", "rmsprop", "adam");
var limitOption = ExampleCli.Optional<int?>("--limit", "train on the first N images only");
var seedOption = ExampleCli.Option("--seed", 1, "seed of the weights, dropout and shuffling");
var backendOption = ExampleCli.Choice("--backend", "engine of deferred mode", "compiled", "interpreter", "ilgpu");
var acceleratorOption = ExampleCli.Choice("--accelerator", "device of the ilgpu backend", "auto", "cuda", "opencl", "cpu");
var modeOption = ExampleCli.Choice("--mode", "deferred (compiled graph) or eager (op by op)", "deferred", "eager");
var profileOption = ExampleCli.Optional<string>("--profile", "write a trace of every kernel (open it in https://ui.perfetto.dev)");
var saveOption = ExampleCli.Optional<string>("--save", "save weights and optimizer state after each epoch (safetensors)");
var resumeOption = ExampleCli.Optional<string>("--resume", "start from a checkpoint written by --save");
var command = new RootCommand("Trains the book's CNN on (Fashion-)MNIST and reports its test accuracy")
{
    dataOption, epochsOption, batchOption, lrOption, optimizerOption, limitOption, seedOption, backendOption,
    acceleratorOption, modeOption, profileOption, saveOption, resumeOption,
};
return ExampleCli.Run(command, args, parsed => Train(new Args(parsed.GetValue(dataOption), parsed.GetValue(epochsOption),
    parsed.GetValue(batchOption), parsed.GetValue(lrOption), parsed.GetValue(optimizerOption)!, parsed.GetValue(limitOption),
    parsed.GetValue(seedOption), parsed.GetValue(backendOption)!, parsed.GetValue(modeOption)!, parsed.GetValue(profileOption),
    parsed.GetValue(saveOption), parsed.GetValue(resumeOption), parsed.GetValue(acceleratorOption)!)));

int Train(Args opt)
{
    // ---- define: the model once; the mode is the one line that differs ----
    var g = new Graph(seed: opt.Seed);
    var backend = opt.Backend switch
    {
        "compiled" => Backend.CSharp,
        "interpreter" => Backend.Interpreter,
        "ilgpu" => Backend.Ilgpu,
        _ => Backend.Ilgpu,
    };
    var mode = opt.Mode switch
    {
        "eager" => ExecutionMode.Eager,
        _ => ExecutionMode.Deferred,
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
        _ => new Adam(opt.Lr ?? 0.001),
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
        if (mode == ExecutionMode.Eager)
            throw new ArgumentException("--resume needs --mode deferred: eager mode makes the optimizer's slots at its first step");
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
    Console.WriteLine($"model: {g.TrainableVariables.Sum(v => v.Shape.StaticSize):N0} parameters; optimizer {optimizer.Name} " +
        $"lr={optimizer.LearningRate}, batch {opt.BatchSize}, mode {opt.Mode}" + (mode == ExecutionMode.Deferred ? $", backend {opt.Backend}" : "")
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
                Console.WriteLine($"  epoch {epoch} [{seen,6}/{train.Count}] loss {lossSum / seen:F4}  " +
                    $"{seen / clock.Elapsed.TotalSeconds:F0} samples/s");
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
    return 0;
}

sealed record Args(string? Data, int Epochs, int BatchSize, double? Lr, string Optimizer, int? Limit, int Seed,
    string Backend, string Mode, string? Profile, string? Save, string? Resume, string Accelerator);
