#:project ../src/Compiler/GraphNet.Compiler.csproj
#:project Shared/GraphNet.Examples.csproj
#:property PublishAot=false
// pytorch/examples' mnist/main.py, line for line: the same Net, Adadelta at lr 1.0 with StepLR
// (step 1, gamma 0.7) for 14 epochs at batch 64, tested at batch 1000 after each epoch, with the
// original's printout. Data: Fashion-MNIST from Debian's dataset-fashion-mnist (MNIST's format),
// normalized with the original's MNIST constants (0.1307, 0.3081); on a CPU the original does not
// shuffle, and neither does this.
//   dotnet run -c Release examples/mnist.cs -- [--data DIR] [--epochs 14] [--batch-size 64] [--lr 1.0] [--gamma 0.7]
//       [--test-batch-size 1000] [--log-interval 10] [--dry-run] [--quick] [--mode deferred|eager] [--save-model]
using System.CommandLine;
using System.Diagnostics;
using GraphNet;
using GraphNet.Compiler;
using GraphNet.Examples;
using GraphNet.Nn;
using GraphNet.Runtime;
using GraphNet.Runtime.Data;
using GraphNet.Train;

var dataOption = ExampleCli.Optional<string>("--data", "folder of the MNIST or Fashion-MNIST IDX files (default: found)");
var batchOption = ExampleCli.Option("--batch-size", 64, "input batch size for training");
var testBatchOption = ExampleCli.Option("--test-batch-size", 1000, "input batch size for testing");
var epochsOption = ExampleCli.Option("--epochs", 14, "number of epochs to train");
var lrOption = ExampleCli.Option("--lr", 1.0, "learning rate");
var gammaOption = ExampleCli.Option("--gamma", 0.7, "learning rate step gamma");
var dryRunOption = ExampleCli.Option("--dry-run", false, "quickly check a single pass");
var seedOption = ExampleCli.Option("--seed", 1, "random seed");
var logOption = ExampleCli.Option("--log-interval", 10, "how many batches to wait before logging training status");
var saveOption = ExampleCli.Option("--save-model", false, "save the model's state_dict to mnist_cnn.safetensors");
var stepsOption = ExampleCli.Optional<int?>("--steps", "train N steps only (one epoch of N batches, tested on 1,000 images): for timing");
var quickOption = ExampleCli.Option("--quick", false, "a check in seconds: 1 epoch on 3,200 training and 1,000 test images");
var modeOption = ExampleCli.Choice("--mode", "deferred (compiled graph) or eager (op by op)", "deferred", "eager");
var command = new RootCommand("PyTorch MNIST Example, ported to GraphNet")
{
    dataOption, batchOption, testBatchOption, epochsOption, lrOption, gammaOption, dryRunOption, seedOption, logOption,
    saveOption, quickOption, modeOption, stepsOption,
};
return ExampleCli.Run(command, args, p => Main(p.GetValue(dataOption), p.GetValue(batchOption), p.GetValue(testBatchOption),
    p.GetValue(epochsOption), p.GetValue(lrOption), p.GetValue(gammaOption), p.GetValue(dryRunOption), p.GetValue(seedOption),
    p.GetValue(logOption), p.GetValue(saveOption), p.GetValue(quickOption), p.GetValue(modeOption) == "eager",
    p.GetValue(stepsOption)));

static int Main(string? data, int batchSize, int testBatchSize, int epochs, double lr, double gamma, bool dryRun, int seed,
    int logInterval, bool saveModel, bool quick, bool eager, int? steps)
{
    using var exec = new Executor(new Graph(seed: seed), eager ? ExecutionMode.Eager : ExecutionMode.Deferred);
    var model = new Net();
    var optimizer = new Adadelta(lr);
    var images = TensorSpec.Float("data", -1, 1, 28, 28);
    var labels = TensorSpec.Int64("target", -1);
    var trainStep = exec.Function([images, labels], xs =>
    {
        var loss = F.NllLoss(model.Forward(xs[0]), xs[1]);
        return [loss, optimizer.Minimize(loss, model.Parameters())];
    });
    var testStep = exec.Function([images, labels], xs =>
    {
        var output = model.Forward(xs[0]);
        return [F.NllLoss(output, xs[1], reduction: Reduction.Sum), F.Sum(F.Cast(F.Equal(F.ArgMax(output, 1), xs[1]), DType.Float32))];
    });

    var dir = Mnist.FindDirectory(data);
    var trainSet = Mnist.Load(dir, train: true, mean: 0.1307f, std: 0.3081f);
    var testSet = Mnist.Load(dir, train: false, mean: 0.1307f, std: 0.3081f);
    if (quick) (trainSet, testSet, epochs) = (trainSet.Take(3200), testSet.Take(1000), 1);
    if (steps is int limit) (trainSet, testSet, epochs) = (trainSet.Take(limit * batchSize), testSet.Take(1000), 1);
    var trainLoader = new DataLoader(trainSet, batchSize, shuffle: false);
    var testLoader = new DataLoader(testSet, testBatchSize, shuffle: false);
    var scheduler = new StepLR(optimizer, stepSize: 1, gamma: gamma);

    double trainSeconds = 0, testLoss = 0, accuracy = 0;
    var stepTimes = new List<double>();
    for (int epoch = 1; epoch <= epochs; epoch++)
    {
        // train(args, model, device, train_loader, optimizer, epoch)
        model.Train();
        var clock = Stopwatch.StartNew();
        int batchIdx = 0;
        foreach (var batch in trainLoader.Epoch(epoch))
        {
            long t0 = Stopwatch.GetTimestamp();
            var loss = trainStep.Run([batch.Images, batch.Labels])[0].Item();
            stepTimes.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            if (batchIdx % logInterval == 0)
            {
                Console.WriteLine($"Train Epoch: {epoch} [{batchIdx * batchSize}/{trainSet.Count} " +
                    $"({100.0 * batchIdx / trainLoader.BatchCount:F0}%)]\tLoss: {loss:F6}");
                if (dryRun) break;
            }
            batchIdx++;
        }
        trainSeconds += clock.Elapsed.TotalSeconds;

        // test(model, device, test_loader)
        model.Eval();
        double lossSum = 0; long correct = 0;
        foreach (var batch in testLoader.Epoch(0))
        {
            var r = testStep.Run([batch.Images, batch.Labels]);
            lossSum += r[0].Item();
            correct += (long)r[1].Item();
        }
        testLoss = lossSum / testSet.Count;
        accuracy = (double)correct / testSet.Count;
        Console.WriteLine($"\nTest set: Average loss: {testLoss:F4}, Accuracy: {correct}/{testSet.Count} ({100.0 * accuracy:F0}%)\n");
        scheduler.Step();
    }

    if (saveModel)
    {
        StateDicts.Save(model, exec.Variables, "mnist_cnn.safetensors");
        Console.WriteLine("saved the model's state_dict to mnist_cnn.safetensors");
    }
    // Steady state: the median of the later half of the steps (compilation and the JIT's warm-up come first).
    var steady = stepTimes.Skip(stepTimes.Count / 2).Order().ToList();
    Console.WriteLine($"test_accuracy={accuracy:F4}");
    Console.WriteLine($"test_loss={testLoss:F4}");
    Console.WriteLine($"train_seconds={trainSeconds:F1}");
    Console.WriteLine($"step_ms={steady[steady.Count / 2]:F2}");
    return 0;
}

/// <summary>The original's Net: two convolutions, max pooling, dropout and two linear layers.</summary>
sealed class Net : Module
{
    private readonly Conv2d conv1 = new(1, 32, 3, 1);
    private readonly Conv2d conv2 = new(32, 64, 3, 1);
    private readonly Dropout dropout1 = new(0.25);
    private readonly Dropout dropout2 = new(0.5);
    private readonly Linear fc1 = new(9216, 128);
    private readonly Linear fc2 = new(128, 10);

    public override Tensor Forward(Tensor x)
    {
        x = conv1.Forward(x);
        x = F.Relu(x);
        x = conv2.Forward(x);
        x = F.Relu(x);
        x = F.MaxPool2d(x, 2);
        x = dropout1.Forward(x);
        x = F.Flatten(x, 1);
        x = fc1.Forward(x);
        x = F.Relu(x);
        x = dropout2.Forward(x);
        x = fc2.Forward(x);
        return F.LogSoftmax(x, 1);
    }
}
