#:project ../src/Compiler/GraphNet.Compiler.csproj
#:project Shared/GraphNet.Examples.csproj
#:property PublishAot=false
// pytorch/examples' vae/main.py, line for line: the same VAE (784-400-20 encoder, 20-400-784
// decoder), Adam at 1e-3, batch 128, 10 epochs, BCE summed plus the KL divergence, and after each
// epoch a grid of test images over their reconstructions (results/reconstruction_N.png) and 64
// samples from the prior (results/sample_N.png). Data: Fashion-MNIST from Debian's
// dataset-fashion-mnist as pixels in [0, 1] (transforms.ToTensor()), training batches shuffled.
//   dotnet run -c Release examples/vae.cs -- [--data DIR] [--epochs 10] [--batch-size 128] [--seed 1]
//       [--log-interval 10] [--results DIR] [--quick] [--mode deferred|eager]
using System.CommandLine;
using System.Diagnostics;
using GraphNet;
using GraphNet.Compiler;
using GraphNet.Examples;
using GraphNet.Nn;
using GraphNet.Runtime.Data;
using GraphNet.Train;

var dataOption = ExampleCli.Optional<string>("--data", "folder of the MNIST or Fashion-MNIST IDX files (default: found)");
var batchOption = ExampleCli.Option("--batch-size", 128, "input batch size for training");
var epochsOption = ExampleCli.Option("--epochs", 10, "number of epochs to train");
var seedOption = ExampleCli.Option("--seed", 1, "random seed");
var logOption = ExampleCli.Option("--log-interval", 10, "how many batches to wait before logging training status");
var resultsOption = ExampleCli.Option("--results", "results", "folder for the reconstruction and sample grids");
var stepsOption = ExampleCli.Optional<int?>("--steps", "train N steps only (one epoch of N batches, tested on 1,000 images): for timing");
var quickOption = ExampleCli.Option("--quick", false, "a check in seconds: 1 epoch on 6,400 training and 1,024 test images");
var modeOption = ExampleCli.Choice("--mode", "deferred (compiled graph) or eager (op by op)", "deferred", "eager");
var command = new RootCommand("VAE MNIST Example, ported to GraphNet")
{
    dataOption, batchOption, epochsOption, seedOption, logOption, resultsOption, quickOption, modeOption, stepsOption,
};
return ExampleCli.Run(command, args, p => Main(p.GetValue(dataOption), p.GetValue(batchOption), p.GetValue(epochsOption),
    p.GetValue(seedOption), p.GetValue(logOption), p.GetValue(resultsOption)!, p.GetValue(quickOption), p.GetValue(modeOption) == "eager",
    p.GetValue(stepsOption)));

static int Main(string? data, int batchSize, int epochs, int seed, int logInterval, string results, bool quick, bool eager, int? steps)
{
    using var exec = new Executor(new Graph(seed: seed), eager ? ExecutionMode.Eager : ExecutionMode.Deferred);
    var model = new VAE();
    var optimizer = new Adam(1e-3);
    var images = TensorSpec.Float("data", -1, 1, 28, 28);
    var trainStep = exec.Function([images], xs =>
    {
        var (recon, mu, logvar) = model.Forward(xs[0]);
        var loss = LossFunction(recon, xs[0], mu, logvar);
        return [loss, optimizer.Minimize(loss, model.Parameters())];
    });
    var testStep = exec.Function([images], xs =>
    {
        var (recon, mu, logvar) = model.Forward(xs[0]);
        return [LossFunction(recon, xs[0], mu, logvar), F.Reshape(recon, [-1, 1, 28, 28])];
    });
    var sampleStep = exec.Function([TensorSpec.Float("z", 64, 20)], zs => [F.Reshape(model.Decode(zs[0]), [64, 1, 28, 28])]);

    var dir = Mnist.FindDirectory(data);
    var trainSet = Mnist.Load(dir, train: true, mean: 0, std: 1);
    var testSet = Mnist.Load(dir, train: false, mean: 0, std: 1);
    if (quick) (trainSet, testSet, epochs) = (trainSet.Take(6400), testSet.Take(1024), 1);
    if (steps is int limit) (trainSet, testSet, epochs) = (trainSet.Take(limit * batchSize), testSet.Take(1000), 1);
    var trainLoader = new DataLoader(trainSet, batchSize, shuffle: true, seed: seed);
    var testLoader = new DataLoader(testSet, batchSize, shuffle: false);

    double trainSeconds = 0, testLoss = 0;
    var stepTimes = new List<double>();
    for (int epoch = 1; epoch <= epochs; epoch++)
    {
        // train(epoch)
        model.Train();
        var clock = Stopwatch.StartNew();
        double trainLoss = 0;
        int batchIdx = 0;
        foreach (var batch in trainLoader.Epoch(epoch))
        {
            long t0 = Stopwatch.GetTimestamp();
            double loss = trainStep.Run([batch.Images])[0].Item();
            stepTimes.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            trainLoss += loss;
            if (batchIdx % logInterval == 0)
                Console.WriteLine($"Train Epoch: {epoch} [{batchIdx * batchSize}/{trainSet.Count} " +
                    $"({100.0 * batchIdx / trainLoader.BatchCount:F0}%)]\tLoss: {loss / batch.Size:F6}");
            batchIdx++;
        }
        trainSeconds += clock.Elapsed.TotalSeconds;
        Console.WriteLine($"====> Epoch: {epoch} Average loss: {trainLoss / trainSet.Count:F4}");

        // test(epoch)
        model.Eval();
        double lossSum = 0;
        int i = 0;
        foreach (var batch in testLoader.Epoch(0))
        {
            var r = testStep.Run([batch.Images]);
            lossSum += r[0].Item();
            if (i++ == 0)
            {
                int n = Math.Min(batch.Size, 8);
                var comparison = NDArray.Concat([batch.Images.Slice(0, n), r[1].Slice(0, n)]);
                ImageGrid.Save(comparison, Path.Combine(results, $"reconstruction_{epoch}.png"), nrow: n);
            }
        }
        testLoss = lossSum / testSet.Count;
        Console.WriteLine($"====> Test set loss: {testLoss:F4}");

        var sample = NDArray.Randn([64, 20], seed: seed * 1000 + epoch);
        ImageGrid.Save(sampleStep.Run([sample])[0], Path.Combine(results, $"sample_{epoch}.png"));
    }

    // Steady state: the median of the later half of the steps (compilation and the JIT's warm-up come first).
    var steady = stepTimes.Skip(stepTimes.Count / 2).Order().ToList();
    Console.WriteLine($"grids: {Path.GetFullPath(results)}/reconstruction_{epochs}.png, sample_{epochs}.png");
    Console.WriteLine($"test_loss={testLoss:F4}");
    Console.WriteLine($"train_seconds={trainSeconds:F1}");
    Console.WriteLine($"step_ms={steady[steady.Count / 2]:F2}");
    return 0;

    // Reconstruction + KL divergence losses summed over all elements and batch
    static Tensor LossFunction(Tensor reconX, Tensor x, Tensor mu, Tensor logvar)
    {
        var bce = F.BinaryCrossEntropy(reconX, F.Reshape(x, [-1, 784]), reduction: Reduction.Sum);
        // see Appendix B from VAE paper: Kingma and Welling. Auto-Encoding Variational Bayes. ICLR, 2014
        // 0.5 * sum(1 + log(sigma^2) - mu^2 - sigma^2)
        var kld = -0.5 * F.Sum(1.0 + logvar - F.Pow(mu, 2) - F.Exp(logvar));
        return bce + kld;
    }
}

sealed class VAE : Module
{
    private readonly Linear fc1 = new(784, 400);
    private readonly Linear fc21 = new(400, 20);
    private readonly Linear fc22 = new(400, 20);
    private readonly Linear fc3 = new(20, 400);
    private readonly Linear fc4 = new(400, 784);

    public (Tensor Mu, Tensor LogVar) Encode(Tensor x)
    {
        var h1 = F.Relu(fc1.Forward(x));
        return (fc21.Forward(h1), fc22.Forward(h1));
    }

    public static Tensor Reparameterize(Tensor mu, Tensor logvar)
    {
        var std = F.Exp(0.5 * logvar);
        var eps = F.RandnLike(std);
        return mu + eps * std;
    }

    public Tensor Decode(Tensor z)
    {
        var h3 = F.Relu(fc3.Forward(z));
        return F.Sigmoid(fc4.Forward(h3));
    }

    public new (Tensor Recon, Tensor Mu, Tensor LogVar) Forward(Tensor x)
    {
        var (mu, logvar) = Encode(F.Reshape(x, [-1, 784]));
        var z = Reparameterize(mu, logvar);
        return (Decode(z), mu, logvar);
    }
}
