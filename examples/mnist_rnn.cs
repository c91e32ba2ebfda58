#:project ../src/Compiler/GraphNet.Compiler.csproj
#:project Shared/GraphNet.Examples.csproj
#:property PublishAot=false
// pytorch/examples' mnist_rnn/main.py, line for line: an LSTM over the 28 rows of each image
// (28 inputs, 64 hidden, batch first), BatchNorm1d and Dropout2d on its last output, two linear
// layers; Adadelta lr 0.1 with StepLR (step 1, gamma 0.7), 14 epochs, batch 64, shuffled, with the
// original's printout. Data: Fashion-MNIST from Debian's dataset-fashion-mnist, normalized with the
// original's MNIST constants (0.1307, 0.3081).
//   dotnet run -c Release examples/mnist_rnn.cs -- [--data DIR] [--epochs 14] [--batch-size 64] [--lr 0.1] [--gamma 0.7]
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
var lrOption = ExampleCli.Option("--lr", 0.1, "learning rate");
var gammaOption = ExampleCli.Option("--gamma", 0.7, "learning rate step gamma");
var dryRunOption = ExampleCli.Option("--dry-run", false, "quickly check a single pass");
var seedOption = ExampleCli.Option("--seed", 1, "random seed");
var logOption = ExampleCli.Option("--log-interval", 10, "how many batches to wait before logging training status");
var saveOption = ExampleCli.Option("--save-model", false, "save the model's state_dict to mnist_rnn.safetensors");
var stepsOption = ExampleCli.Optional<int?>("--steps", "train N steps only (one epoch of N batches, tested on 1,000 images): for timing");
var quickOption = ExampleCli.Option("--quick", false, "a check in seconds: 1 epoch on 6,400 training and 1,000 test images");
var modeOption = ExampleCli.Choice("--mode", "deferred (compiled graph) or eager (op by op)", "deferred", "eager");
var command = new RootCommand("PyTorch MNIST Example using RNN, ported to GraphNet")
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
    if (quick) (trainSet, testSet, epochs) = (trainSet.Take(6400), testSet.Take(1000), 1);
    if (steps is int limit) (trainSet, testSet, epochs) = (trainSet.Take(limit * batchSize), testSet.Take(1000), 1);
    var trainLoader = new DataLoader(trainSet, batchSize, shuffle: true, seed: seed);
    var testLoader = new DataLoader(testSet, testBatchSize, shuffle: true, seed: seed + 1);
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

        // test(args, model, device, test_loader)
        model.Eval();
        double lossSum = 0; long correct = 0;
        foreach (var batch in testLoader.Epoch(epoch))
        {
            var r = testStep.Run([batch.Images, batch.Labels]);
            lossSum += r[0].Item();
            correct += (long)r[1].Item();
            if (dryRun) break;
        }
        testLoss = lossSum / testSet.Count;
        accuracy = (double)correct / testSet.Count;
        Console.WriteLine($"\nTest set: Average loss: {testLoss:F4}, Accuracy: {correct}/{testSet.Count} ({100.0 * accuracy:F0}%)\n");
        scheduler.Step();
    }

    if (saveModel)
    {
        StateDicts.Save(model, exec.Variables, "mnist_rnn.safetensors");
        Console.WriteLine("saved the model's state_dict to mnist_rnn.safetensors");
    }
    // Steady state: the median of the later half of the steps (compilation and the JIT's warm-up come first).
    var steady = stepTimes.Skip(stepTimes.Count / 2).Order().ToList();
    Console.WriteLine($"test_accuracy={accuracy:F4}");
    Console.WriteLine($"test_loss={testLoss:F4}");
    Console.WriteLine($"train_seconds={trainSeconds:F1}");
    Console.WriteLine($"step_ms={steady[steady.Count / 2]:F2}");
    return 0;
}

sealed class Net : Module
{
    private readonly LSTM rnn = new(inputSize: 28, hiddenSize: 64, batchFirst: true);
    private readonly BatchNorm1d batchnorm = new(64);
    private readonly Dropout2d dropout1 = new(0.25);
    private readonly Dropout2d dropout2 = new(0.5);
    private readonly Linear fc1 = new(64, 32);
    private readonly Linear fc2 = new(32, 10);

    public override Tensor Forward(Tensor input)
    {
        // Shape of input is (batch_size, 1, 28, 28); the LSTM takes (batch_size, 28, 28), batch first
        input = F.Reshape(input, -1, 28, 28);
        // output[:, -1, :], the last step's output: for one layer in one direction, h_n [1, N, 64] holds it.
        var (_, (hn, _)) = rnn.Forward(input);
        var last = F.Reshape(hn, -1, 64);
        var output = batchnorm.Forward(last);
        output = dropout1.Forward(output);
        output = fc1.Forward(output);
        output = F.Relu(output);
        output = dropout2.Forward(output);
        output = fc2.Forward(output);
        return F.LogSoftmax(output, 1);
    }
}
