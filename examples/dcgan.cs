#:project ../src/Compiler/GraphNet.Compiler.csproj
#:project Shared/GraphNet.Examples.csproj
#:property PublishAot=false
// pytorch/examples' dcgan/main.py with its `--dataset mnist` transforms (Resize(64), ToTensor,
// Normalize((0.5,), (0.5,))) on Fashion-MNIST from Debian's dataset-fashion-mnist: the same
// Generator and Discriminator (nz 100, ngf = ndf = 64), weights_init, BCELoss, Adam lr 2e-4 with
// beta1 0.5, batch 64, 25 epochs, one line per iteration, sample grids every 100 iterations
// (real_samples.png, fake_samples_epoch_NNN.png from a fixed noise) and the state dicts per epoch.
//   dotnet run -c Release examples/dcgan.cs -- [--data DIR] [--batchSize 64] [--imageSize 64] [--nz 100] [--ngf 64]
//       [--ndf 64] [--niter 25] [--lr 0.0002] [--beta1 0.5] [--dry-run] [--outf DIR] [--manualSeed S] [--quick]
using System.CommandLine;
using System.Diagnostics;
using GraphNet;
using GraphNet.Compiler;
using GraphNet.Examples;
using GraphNet.Nn;
using GraphNet.Runtime;
using GraphNet.Runtime.Data;
using GraphNet.Train;

var dataOption = ExampleCli.Optional<string>("--data", "folder of the MNIST or Fashion-MNIST IDX files (the original's --dataroot)");
var batchOption = ExampleCli.Option("--batchSize", 64, "input batch size");
var imageOption = ExampleCli.Option("--imageSize", 64, "the height / width of the input image to network");
var nzOption = ExampleCli.Option("--nz", 100, "size of the latent z vector");
var ngfOption = ExampleCli.Option("--ngf", 64, "number of generator filters");
var ndfOption = ExampleCli.Option("--ndf", 64, "number of discriminator filters");
var niterOption = ExampleCli.Option("--niter", 25, "number of epochs to train for");
var lrOption = ExampleCli.Option("--lr", 0.0002, "learning rate");
var beta1Option = ExampleCli.Option("--beta1", 0.5, "beta1 for adam");
var dryRunOption = ExampleCli.Option("--dry-run", false, "check a single training cycle works");
var outfOption = ExampleCli.Option("--outf", ".", "folder to output images and model checkpoints");
var seedOption = ExampleCli.Optional<int?>("--manualSeed", "manual seed (default: a random one, printed)");
var stepsOption = ExampleCli.Optional<int?>("--steps", "train N iterations only (for timing)");
var modeOption = ExampleCli.Choice("--mode", "deferred (compiled graph) or eager (op by op)", "deferred", "eager");
var quickOption = ExampleCli.Option("--quick", false, "a check in seconds: 12 iterations of batch 32");
var command = new RootCommand("DCGAN, ported to GraphNet")
{
    dataOption, batchOption, imageOption, nzOption, ngfOption, ndfOption, niterOption, lrOption, beta1Option, dryRunOption,
    outfOption, seedOption, quickOption, stepsOption, modeOption,
};
return ExampleCli.Run(command, args, p => Main(new Opt(p.GetValue(dataOption), p.GetValue(batchOption), p.GetValue(imageOption),
    p.GetValue(nzOption), p.GetValue(ngfOption), p.GetValue(ndfOption), p.GetValue(niterOption), p.GetValue(lrOption),
    p.GetValue(beta1Option), p.GetValue(dryRunOption), p.GetValue(outfOption)!, p.GetValue(seedOption), p.GetValue(quickOption),
    p.GetValue(stepsOption), p.GetValue(modeOption) == "eager")));

static int Main(Opt opt)
{
    Console.WriteLine(opt);
    Directory.CreateDirectory(opt.Outf);
    int seed = opt.ManualSeed ?? Random.Shared.Next(1, 10001);
    Console.WriteLine($"Random Seed:  {seed}");
    var random = new Random(seed);
    int nc = 1, batchSize = opt.Quick ? 32 : opt.BatchSize;

    using var exec = new Executor(new Graph(seed: seed), opt.Eager ? ExecutionMode.Eager : ExecutionMode.Deferred);
    var netG = new Generator(opt.Nz, opt.Ngf, nc);
    netG.Apply(WeightsInit);
    var netD = new Discriminator(opt.Ndf, nc);
    netD.Apply(WeightsInit);
    var optimizerD = new Adam(opt.Lr, beta1: opt.Beta1, name: "optimizerD");
    var optimizerG = new Adam(opt.Lr, beta1: opt.Beta1, name: "optimizerG");
    var noise = TensorSpec.Float("noise", -1, opt.Nz, 1, 1);
    var image = TensorSpec.Float("image", -1, nc, opt.ImageSize, opt.ImageSize);
    // fake = netG(noise): a forward pass only, fed to the discriminator's step as fake.detach() is.
    var generate = exec.Function([noise], xs => [netG.Forward(xs[0])]);
    // (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
    var stepD = exec.Function([image, image], xs =>
    {
        var outputReal = netD.Forward(xs[0]);
        var errDReal = F.BinaryCrossEntropy(outputReal, F.OnesLike(outputReal));
        var outputFake = netD.Forward(xs[1]);
        var errDFake = F.BinaryCrossEntropy(outputFake, F.ZerosLike(outputFake));
        var errD = errDReal + errDFake; // errD_real.backward() then errD_fake.backward(): their gradients add
        return [errD, F.Mean(outputReal), F.Mean(outputFake), optimizerD.Minimize(errD, netD.Parameters())];
    });
    // (2) Update G network: maximize log(D(G(z))), through the discriminator just updated
    var stepG = exec.Function([noise], xs =>
    {
        var output = netD.Forward(netG.Forward(xs[0]));
        var errG = F.BinaryCrossEntropy(output, F.OnesLike(output)); // fake labels are real for generator cost
        return [errG, F.Mean(output), optimizerG.Minimize(errG, netG.Parameters())];
    });
    Console.WriteLine($"netG: {netG.ParameterCount():N0} parameters; netD: {netD.ParameterCount():N0} parameters");

    var dir = Mnist.FindDirectory(opt.Data);
    var dataset = Mnist.Load(dir, train: true, mean: 0, std: 1); // ToTensor: pixels in [0, 1]
    if (opt.Quick) dataset = dataset.Take(12 * batchSize);
    if (opt.Steps is int steps) dataset = dataset.Take(steps * batchSize);
    var dataloader = new DataLoader(dataset, batchSize, shuffle: true, seed: seed);
    var fixedNoise = NDArray.Randn([batchSize, opt.Nz, 1, 1], seed);
    int niter = opt.DryRun || opt.Quick || opt.Steps is not null ? 1 : opt.Niter;

    var clock = Stopwatch.StartNew();
    var iterationTimes = new List<double>();
    double errDLast = 0, errGLast = 0;
    for (int epoch = 0; epoch < niter; epoch++)
    {
        int i = 0;
        foreach (var batch in dataloader.Epoch(epoch))
        {
            long t0 = Stopwatch.GetTimestamp();
            var realCpu = Transforms.Normalize(Transforms.Resize(batch.Images, opt.ImageSize), [0.5], [0.5]);
            var z = Noise(random, batch.Size, opt.Nz);
            var fake = generate.Run([z])[0];
            var d = stepD.Run([realCpu, fake]);
            var gStep = stepG.Run([z]);
            iterationTimes.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            (errDLast, errGLast) = (d[0].Item(), gStep[0].Item());
            Console.WriteLine($"[{epoch}/{niter}][{i}/{dataloader.BatchCount}] Loss_D: {errDLast:F4} Loss_G: {errGLast:F4} " +
                $"D(x): {d[1].Item():F4} D(G(z)): {d[2].Item():F4} / {gStep[1].Item():F4}");
            if (i % 100 == 0)
            {
                ImageGrid.Save(realCpu, Path.Combine(opt.Outf, "real_samples.png"), normalize: true);
                ImageGrid.Save(generate.Run([fixedNoise])[0], Path.Combine(opt.Outf, $"fake_samples_epoch_{epoch:D3}.png"), normalize: true);
            }
            if (opt.DryRun) break;
            i++;
        }
        // do checkpointing
        StateDicts.Save(netG, exec.Variables, Path.Combine(opt.Outf, $"netG_epoch_{epoch}.safetensors"));
        StateDicts.Save(netD, exec.Variables, Path.Combine(opt.Outf, $"netD_epoch_{epoch}.safetensors"));
    }
    var steady = iterationTimes.Skip(iterationTimes.Count / 2).Order().ToList(); // the later half: steady state
    Console.WriteLine($"loss_d={errDLast:F4}");
    Console.WriteLine($"loss_g={errGLast:F4}");
    Console.WriteLine($"train_seconds={clock.Elapsed.TotalSeconds:F1}");
    Console.WriteLine($"step_ms={steady[steady.Count / 2]:F1}");
    return 0;
}

// custom weights initialization called on netG and netD
static void WeightsInit(Module m)
{
    if (m is Conv2d or ConvTranspose2d) m.GetParameter("weight").Initializer = Init.Normal(0.0, 0.02);
    else if (m is BatchNorm2d)
    {
        m.GetParameter("weight").Initializer = Init.Normal(1.0, 0.02);
        m.GetParameter("bias").Initializer = Init.Zeros;
    }
}

// torch.randn(batch_size, nz, 1, 1) from the script's seeded generator (Box-Muller).
static NDArray Noise(Random random, int n, int nz)
{
    var z = new float[n * nz];
    for (int i = 0; i < z.Length; i++)
        z[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
    return NDArray.From(z, n, nz, 1, 1);
}

sealed class Generator(int nz, int ngf, int nc) : Module
{
    private readonly Sequential main = new(
        // input is Z, going into a convolution
        new ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias: false),
        new BatchNorm2d(ngf * 8),
        new ReLU(),
        // state size. (ngf*8) x 4 x 4
        new ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias: false),
        new BatchNorm2d(ngf * 4),
        new ReLU(),
        // state size. (ngf*4) x 8 x 8
        new ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias: false),
        new BatchNorm2d(ngf * 2),
        new ReLU(),
        // state size. (ngf*2) x 16 x 16
        new ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias: false),
        new BatchNorm2d(ngf),
        new ReLU(),
        // state size. (ngf) x 32 x 32
        new ConvTranspose2d(ngf, nc, 4, 2, 1, bias: false),
        new Tanh()
        // state size. (nc) x 64 x 64
    );

    public override Tensor Forward(Tensor input) => main.Forward(input);
}

sealed class Discriminator(int ndf, int nc) : Module
{
    private readonly Sequential main = new(
        // input is (nc) x 64 x 64
        new Conv2d(nc, ndf, 4, 2, 1, bias: false),
        new LeakyReLU(0.2),
        // state size. (ndf) x 32 x 32
        new Conv2d(ndf, ndf * 2, 4, 2, 1, bias: false),
        new BatchNorm2d(ndf * 2),
        new LeakyReLU(0.2),
        // state size. (ndf*2) x 16 x 16
        new Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias: false),
        new BatchNorm2d(ndf * 4),
        new LeakyReLU(0.2),
        // state size. (ndf*4) x 8 x 8
        new Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias: false),
        new BatchNorm2d(ndf * 8),
        new LeakyReLU(0.2),
        // state size. (ndf*8) x 4 x 4
        new Conv2d(ndf * 8, 1, 4, 1, 0, bias: false),
        new Sigmoid()
    );

    public override Tensor Forward(Tensor input) => F.Reshape(main.Forward(input), -1); // output.view(-1, 1).squeeze(1)
}

sealed record Opt(string? Data, int BatchSize, int ImageSize, int Nz, int Ngf, int Ndf, int Niter, double Lr, double Beta1,
    bool DryRun, string Outf, int? ManualSeed, bool Quick, int? Steps, bool Eager);
