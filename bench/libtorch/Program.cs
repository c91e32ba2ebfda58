using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

// libtorch on the bench's models, printed as the bench prints them (key=value lines), so that
// `bench/compare.sh` can put both side by side. Models match bench/Models.cs.
if (args.Length > 0 && args[0] == "port")
{
    torch.set_num_threads(2);
    return Ports.Run(args[1..]);
}
int threads = args.Length > 0 ? int.Parse(args[0]) : 2;
int steps = args.Length > 1 ? int.Parse(args[1]) : 30;
torch.set_num_threads(threads);
torch.manual_seed(1);
Console.WriteLine($"libtorch threads={torch.get_num_threads()} steps={steps}");

Matmul(1024);
Train("cnn", Cnn(), [1, 28, 28], m => optim.Adadelta(m.parameters(), lr: 0.5), 64, steps, nll: true);
Train("mlp", Mlp(), [784], m => optim.Adam(m.parameters()), 64, steps * 4, nll: false);
Train("lstm", new LstmNet(), [28, 28], m => optim.Adam(m.parameters()), 64, steps * 2, nll: false);
Infer("cnn", Cnn(), [1, 28, 28], 1, steps * 10);
Infer("cnn", Cnn(), [1, 28, 28], 64, steps);
return 0;

static Module<Tensor, Tensor> Cnn() => Sequential(
    Conv2d(1, 32, 3), ReLU(), Conv2d(32, 64, 3), ReLU(), MaxPool2d(2), Dropout(0.25), Flatten(),
    Linear(9216, 128), ReLU(), Dropout(0.5), Linear(128, 10), LogSoftmax(1));

static Module<Tensor, Tensor> Mlp() => Sequential(Linear(784, 512), ReLU(), Linear(512, 512), ReLU(), Linear(512, 10));

static void Matmul(int n)
{
    var a = randn(n, n); var b = randn(n, n);
    double median = Median(() => mm(a, b).Dispose(), 3, 15);
    Console.WriteLine($"model=matmul{n} gflops={2.0 * n * n * n / median / 1e9:F1} median_ms={median * 1e3:F3}");
}

static void Train(string name, Module<Tensor, Tensor> model, long[] sample, Func<Module<Tensor, Tensor>, optim.Optimizer> makeOptimizer, int batch, int steps, bool nll)
{
    model.train();
    var optimizer = makeOptimizer(model);
    var x = rand([batch, .. sample]) * 2 - 1;
    var y = randint(10, [batch], dtype: int64);
    double median = Median(() =>
    {
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        var output = model.forward(x);
        var loss = nll ? functional.nll_loss(output, y) : functional.cross_entropy(output, y);
        loss.backward();
        optimizer.step();
    }, 5, steps);
    Console.WriteLine($"model={name} task=train batch={batch} median_ms={median * 1e3:F3} samples_per_s={batch / median:F0}");
}

static void Infer(string name, Module<Tensor, Tensor> model, long[] sample, int batch, int steps)
{
    model.eval();
    var x = rand([batch, .. sample]);
    double median = Median(() =>
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.forward(x);
    }, 5, steps);
    Console.WriteLine($"model={name} task=infer batch={batch} median_ms={median * 1e3:F3} samples_per_s={batch / median:F0}");
}

// Steady state, as GraphNet's bench measures it: TorchSharp's managed side is JIT-compiled in
// tiers too. Warm up in windows until three window medians agree within 5% (at least 1.5 s),
// then time the steps.
static double Median(Action step, int warmup, int steps)
{
    for (int i = 0; i < warmup; i++) step();
    var clock = Stopwatch.StartNew();
    var medians = new List<double>();
    int window = 5;
    while (clock.Elapsed.TotalSeconds < 20)
    {
        var w = new double[window];
        for (int i = 0; i < window; i++) { var s = Stopwatch.StartNew(); step(); w[i] = s.Elapsed.TotalSeconds; }
        Array.Sort(w);
        medians.Add(w[window / 2]);
        window = Math.Clamp((int)(0.25 / medians[^1]), 5, 200);
        if (medians.Count >= 3 && clock.Elapsed.TotalSeconds >= 1.5 && medians.TakeLast(3).Max() <= 1.05 * medians.TakeLast(3).Min()) break;
    }
    var times = new double[steps];
    for (int i = 0; i < steps; i++) { var sw = Stopwatch.StartNew(); step(); times[i] = sw.Elapsed.TotalSeconds; }
    Array.Sort(times);
    return times[steps / 2];
}

sealed class LstmNet : Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.LSTM lstm = LSTM(28, 128, batchFirst: true);
    private readonly TorchSharp.Modules.Linear fc = Linear(128, 10);
    public LstmNet() : base("lstm") => RegisterComponents();
    public override Tensor forward(Tensor x)
    {
        var (output, _, _) = lstm.forward(x);
        return fc.forward(output.select(1, -1));
    }
}
