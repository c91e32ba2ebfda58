using System.Diagnostics;
using GraphNet.Runtime.Data;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using F = TorchSharp.torch.nn.functional;

/// <summary>
/// The libtorch twins of examples/mnist.cs, vae.cs, mnist_rnn.cs and dcgan.cs: pytorch/examples' scripts
/// in TorchSharp, fed the same Fashion-MNIST batches in the same order (GraphNet's loader, same seeds),
/// ending with the same key=value lines. `run.sh port NAME [--quick] [--data DIR]`.
/// </summary>
static class Ports
{
    public static int Run(string[] args)
    {
        string name = args[0];
        bool quick = args.Contains("--quick");
        int st = Array.IndexOf(args, "--steps");
        Steps = st >= 0 ? int.Parse(args[st + 1]) : null;
        int at = Array.IndexOf(args, "--data");
        string dir = Mnist.FindDirectory(at >= 0 ? args[at + 1] : null);
        int seedAt = Array.IndexOf(args, "--seed");
        Seed = seedAt >= 0 ? int.Parse(args[seedAt + 1]) : 1; // as the ports: torch's seed and the loaders' (seed, seed + 1)
        torch.manual_seed(Seed);
        return name switch
        {
            "mnist" => Classifier(new MnistNet(), dir, quick, lr: 1.0, shuffle: false, quickTrain: 3200),
            "mnist_rnn" => Classifier(new RnnNet(), dir, quick, lr: 0.1, shuffle: true, quickTrain: 6400),
            "vae" => Vae(dir, quick),
            "dcgan" => Dcgan(dir, quick),
            _ => throw new ArgumentException($"no port '{name}': mnist, mnist_rnn, vae or dcgan"),
        };
    }

    // --steps N: N training steps only (one epoch of N batches, tested on 1,000 images), as the ports take it.
    private static int? Steps;
    private static int Seed = 1;

    private static Tensor Images(GraphNet.NDArray a) => torch.tensor((float[])a.Data, a.Shape.Select(d => (long)d).ToArray());
    private static Tensor Labels(GraphNet.NDArray a) => torch.tensor((long[])a.Data, [a.Shape[0]]);

    private static int Classifier(Module<Tensor, Tensor> model, string dir, bool quick, double lr, bool shuffle, int quickTrain)
    {
        var trainSet = Mnist.Load(dir, train: true, mean: 0.1307f, std: 0.3081f);
        var testSet = Mnist.Load(dir, train: false, mean: 0.1307f, std: 0.3081f);
        int epochs = 14;
        if (quick) (trainSet, testSet, epochs) = (trainSet.Take(quickTrain), testSet.Take(1000), 1);
        if (Steps is int s) (trainSet, testSet, epochs) = (trainSet.Take(s * 64), testSet.Take(1000), 1);
        var trainLoader = new DataLoader(trainSet, 64, shuffle, seed: Seed);
        var testLoader = new DataLoader(testSet, 1000, shuffle, seed: Seed + 1);
        var optimizer = torch.optim.Adadelta(model.parameters(), lr);
        var scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1, 0.7);
        var steps = new List<double>();
        double trainSeconds = 0, testLoss = 0, accuracy = 0;
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            model.train();
            var clock = Stopwatch.StartNew();
            int batchIdx = 0;
            foreach (var batch in trainLoader.Epoch(epoch))
            {
                using var scope = NewDisposeScope();
                long t0 = Stopwatch.GetTimestamp();
                optimizer.zero_grad();
                var loss = F.nll_loss(model.forward(Images(batch.Images)), Labels(batch.Labels));
                loss.backward();
                optimizer.step();
                double l = loss.item<float>();
                steps.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                if (batchIdx % 10 == 0) Console.WriteLine($"Train Epoch: {epoch} [{batchIdx * 64}/{trainSet.Count}]\tLoss: {l:F6}");
                batchIdx++;
            }
            trainSeconds += clock.Elapsed.TotalSeconds;
            model.eval();
            double lossSum = 0; long correct = 0;
            using (no_grad())
                foreach (var batch in testLoader.Epoch(epoch))
                {
                    using var scope = NewDisposeScope();
                    var output = model.forward(Images(batch.Images));
                    var target = Labels(batch.Labels);
                    lossSum += F.nll_loss(output, target, reduction: Reduction.Sum).item<float>();
                    correct += output.argmax(1).eq(target).sum().item<long>();
                }
            (testLoss, accuracy) = (lossSum / testSet.Count, (double)correct / testSet.Count);
            Console.WriteLine($"\nTest set: Average loss: {testLoss:F4}, Accuracy: {correct}/{testSet.Count} ({100.0 * accuracy:F0}%)\n");
            scheduler.step();
        }
        Console.WriteLine($"test_accuracy={accuracy:F4}");
        return Figures(testLoss, trainSeconds, steps);
    }

    private static int Vae(string dir, bool quick)
    {
        var trainSet = Mnist.Load(dir, train: true, mean: 0, std: 1);
        var testSet = Mnist.Load(dir, train: false, mean: 0, std: 1);
        int epochs = 10;
        if (quick) (trainSet, testSet, epochs) = (trainSet.Take(6400), testSet.Take(1024), 1);
        if (Steps is int s) (trainSet, testSet, epochs) = (trainSet.Take(s * 128), testSet.Take(1000), 1);
        var trainLoader = new DataLoader(trainSet, 128, shuffle: true, seed: 1);
        var testLoader = new DataLoader(testSet, 128, shuffle: false);
        var model = new VaeNet();
        var optimizer = torch.optim.Adam(model.parameters(), 1e-3);
        var steps = new List<double>();
        double trainSeconds = 0, testLoss = 0;
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            model.train();
            var clock = Stopwatch.StartNew();
            double trainLoss = 0;
            foreach (var batch in trainLoader.Epoch(epoch))
            {
                using var scope = NewDisposeScope();
                long t0 = Stopwatch.GetTimestamp();
                optimizer.zero_grad();
                var x = Images(batch.Images);
                var (recon, mu, logvar) = model.Run(x);
                var loss = VaeNet.Loss(recon, x, mu, logvar);
                loss.backward();
                optimizer.step();
                trainLoss += loss.item<float>();
                steps.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
            trainSeconds += clock.Elapsed.TotalSeconds;
            Console.WriteLine($"====> Epoch: {epoch} Average loss: {trainLoss / trainSet.Count:F4}");
            model.eval();
            double sum = 0;
            using (no_grad())
                foreach (var batch in testLoader.Epoch(0))
                {
                    using var scope = NewDisposeScope();
                    var x = Images(batch.Images);
                    var (recon, mu, logvar) = model.Run(x);
                    sum += VaeNet.Loss(recon, x, mu, logvar).item<float>();
                }
            testLoss = sum / testSet.Count;
            Console.WriteLine($"====> Test set loss: {testLoss:F4}");
        }
        return Figures(testLoss, trainSeconds, steps);
    }

    private static int Dcgan(string dir, bool quick)
    {
        int batchSize = quick ? 32 : 64, nz = 100, niter = quick ? 1 : 25;
        var dataset = Mnist.Load(dir, train: true, mean: 0, std: 1);
        if (quick) dataset = dataset.Take(12 * batchSize);
        if (Steps is int s) (dataset, niter) = (dataset.Take(s * batchSize), 1);
        var loader = new DataLoader(dataset, batchSize, shuffle: true, seed: 1);
        var netG = new DcganG(nz, 64, 1);
        var netD = new DcganD(64, 1);
        var optimizerD = torch.optim.Adam(netD.parameters(), 0.0002, 0.5, 0.999);
        var optimizerG = torch.optim.Adam(netG.parameters(), 0.0002, 0.5, 0.999);
        var steps = new List<double>();
        var clock = Stopwatch.StartNew();
        double errDLast = 0, errGLast = 0;
        for (int epoch = 0; epoch < niter; epoch++)
        {
            int i = 0;
            foreach (var batch in loader.Epoch(epoch))
            {
                using var scope = NewDisposeScope();
                long t0 = Stopwatch.GetTimestamp();
                var real = Images(Transforms.Normalize(Transforms.Resize(batch.Images, 64), [0.5], [0.5]));
                netD.zero_grad();
                var label = torch.full([batch.Size], 1.0f);
                var output = netD.forward(real);
                var errDReal = F.binary_cross_entropy(output, label);
                errDReal.backward();
                double dx = output.mean().item<float>();
                var noise = torch.randn(batch.Size, nz, 1, 1);
                var fake = netG.forward(noise);
                label.fill_(0.0f);
                output = netD.forward(fake.detach());
                var errDFake = F.binary_cross_entropy(output, label);
                errDFake.backward();
                double dgz1 = output.mean().item<float>();
                var errD = errDReal + errDFake;
                optimizerD.step();
                netG.zero_grad();
                label.fill_(1.0f);
                output = netD.forward(fake);
                var errG = F.binary_cross_entropy(output, label);
                errG.backward();
                double dgz2 = output.mean().item<float>();
                optimizerG.step();
                (errDLast, errGLast) = (errD.item<float>(), errG.item<float>());
                steps.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                Console.WriteLine($"[{epoch}/{niter}][{i++}/{loader.BatchCount}] Loss_D: {errDLast:F4} Loss_G: {errGLast:F4} " +
                    $"D(x): {dx:F4} D(G(z)): {dgz1:F4} / {dgz2:F4}");
            }
        }
        Console.WriteLine($"loss_d={errDLast:F4}");
        Console.WriteLine($"loss_g={errGLast:F4}");
        Console.WriteLine($"train_seconds={clock.Elapsed.TotalSeconds:F1}");
        return StepLine(steps);
    }

    private static int Figures(double testLoss, double trainSeconds, List<double> steps)
    {
        Console.WriteLine($"test_loss={testLoss:F4}");
        Console.WriteLine($"train_seconds={trainSeconds:F1}");
        return StepLine(steps);
    }

    // As the ports: the median of the later half of the steps.
    private static int StepLine(List<double> steps)
    {
        var steady = steps.Skip(steps.Count / 2).Order().ToList();
        Console.WriteLine($"step_ms={steady[steady.Count / 2]:F2}");
        return 0;
    }
}

sealed class MnistNet : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> conv1 = Conv2d(1, 32, 3, 1), conv2 = Conv2d(32, 64, 3, 1);
    private readonly Module<Tensor, Tensor> dropout1 = Dropout(0.25), dropout2 = Dropout(0.5);
    private readonly Module<Tensor, Tensor> fc1 = Linear(9216, 128), fc2 = Linear(128, 10);
    public MnistNet() : base("Net") => RegisterComponents();
    public override Tensor forward(Tensor x)
    {
        x = F.relu(conv2.forward(F.relu(conv1.forward(x))));
        x = torch.flatten(dropout1.forward(F.max_pool2d(x, 2)), 1);
        x = dropout2.forward(F.relu(fc1.forward(x)));
        return F.log_softmax(fc2.forward(x), 1);
    }
}

sealed class RnnNet : Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.LSTM rnn = LSTM(28, 64, batchFirst: true);
    // The original's nn.Dropout2d on [N, C]: Python's F.dropout2d hands a 2-D input to feature_dropout as is,
    // which drops single elements; libtorch's C++ dropout2d (TorchSharp's) takes it as one unbatched [C, H, W]
    // image and drops whole rows, samples, instead (a training loss near 1.6 where the original's is 0.7).
    // Element dropout is what the original does.
    private readonly Module<Tensor, Tensor> batchnorm = BatchNorm1d(64), dropout1 = Dropout(0.25), dropout2 = Dropout(0.5);
    private readonly Module<Tensor, Tensor> fc1 = Linear(64, 32), fc2 = Linear(32, 10);
    public RnnNet() : base("Net") => RegisterComponents();
    public override Tensor forward(Tensor input)
    {
        var (output, _, _) = rnn.forward(input.reshape(-1, 28, 28));
        var h = dropout1.forward(batchnorm.forward(output.select(1, -1)));
        h = dropout2.forward(F.relu(fc1.forward(h)));
        return F.log_softmax(fc2.forward(h), 1);
    }
}

sealed class VaeNet : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> fc1 = Linear(784, 400), fc21 = Linear(400, 20), fc22 = Linear(400, 20);
    private readonly Module<Tensor, Tensor> fc3 = Linear(20, 400), fc4 = Linear(400, 784);
    public VaeNet() : base("VAE") => RegisterComponents();
    public override Tensor forward(Tensor x) => Run(x).Recon;
    public (Tensor Recon, Tensor Mu, Tensor LogVar) Run(Tensor x)
    {
        var h1 = F.relu(fc1.forward(x.view(-1, 784)));
        var (mu, logvar) = (fc21.forward(h1), fc22.forward(h1));
        var z = mu + torch.randn_like(logvar) * torch.exp(0.5 * logvar);
        return (torch.sigmoid(fc4.forward(F.relu(fc3.forward(z)))), mu, logvar);
    }
    public static Tensor Loss(Tensor recon, Tensor x, Tensor mu, Tensor logvar) =>
        F.binary_cross_entropy(recon, x.view(-1, 784), reduction: Reduction.Sum)
        - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp());
}

sealed class DcganG : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> main;
    public DcganG(int nz, int ngf, int nc) : base("Generator")
    {
        main = Sequential(
            ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias: false), BatchNorm2d(ngf * 8), ReLU(true),
            ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias: false), BatchNorm2d(ngf * 4), ReLU(true),
            ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias: false), BatchNorm2d(ngf * 2), ReLU(true),
            ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias: false), BatchNorm2d(ngf), ReLU(true),
            ConvTranspose2d(ngf, nc, 4, 2, 1, bias: false), Tanh());
        RegisterComponents();
        DcganInit.Apply(this);
    }
    public override Tensor forward(Tensor x) => main.forward(x);
}

sealed class DcganD : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> main;
    public DcganD(int ndf, int nc) : base("Discriminator")
    {
        main = Sequential(
            Conv2d(nc, ndf, 4, 2, 1, bias: false), LeakyReLU(0.2, true),
            Conv2d(ndf, ndf * 2, 4, 2, 1, bias: false), BatchNorm2d(ndf * 2), LeakyReLU(0.2, true),
            Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias: false), BatchNorm2d(ndf * 4), LeakyReLU(0.2, true),
            Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias: false), BatchNorm2d(ndf * 8), LeakyReLU(0.2, true),
            Conv2d(ndf * 8, 1, 4, 1, 0, bias: false), Sigmoid());
        RegisterComponents();
        DcganInit.Apply(this);
    }
    public override Tensor forward(Tensor x) => main.forward(x).view(-1, 1).squeeze(1);
}

static class DcganInit
{
    // weights_init: convolutions N(0, 0.02), batch norms weight N(1, 0.02) and bias 0.
    public static void Apply(Module m)
    {
        using var _ = no_grad();
        foreach (var (name, p) in m.named_parameters())
        {
            bool bn = p.dim() == 1;
            if (!bn) init.normal_(p, 0.0, 0.02);
            else if (name.EndsWith("weight")) init.normal_(p, 1.0, 0.02);
            else init.zeros_(p);
        }
    }
}
