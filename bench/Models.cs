using GraphNet.Compiler;
using GraphNet.Nn;
using GraphNet.Train;

namespace GraphNet.Bench;

/// <summary>
/// A benchmark model written once: <see cref="Define"/> makes its layers in a graph and returns
/// its forward function, so the same code runs deferred (traced once) or eagerly (every step).
/// </summary>
public sealed record ModelSpec(string Name, int[] SampleShape, Func<Graph, Func<Tensor, Tensor>> Define, Func<Tensor, Tensor, Tensor> Loss, Func<Optimizer> Optimizer)
{
    public static ModelSpec Get(string name) => name switch
    {
        "cnn" => Cnn,
        "mlp" => Mlp,
        "lstm" => Lstm,
        "lstm-unrolled" => LstmUnrolled,
        _ => throw new ArgumentException($"unknown model '{name}': use cnn, mlp, lstm or lstm-unrolled"),
    };

    /// <summary>The book's CNN (log-probabilities out), NLL loss, Adadelta at lr 0.5.</summary>
    public static readonly ModelSpec Cnn = new("cnn", [1, 28, 28], g =>
    {
        var conv1 = new Conv2d(g, "conv1", 1, 32, 3);
        var conv2 = new Conv2d(g, "conv2", 32, 64, 3);
        var fc1 = new Linear(g, "fc1", 9216, 128);
        var fc2 = new Linear(g, "fc2", 128, 10);
        return x =>
        {
            var h = F.Relu(conv2.Forward(F.Relu(conv1.Forward(x))));
            h = F.Flatten(F.Dropout(F.MaxPool2d(h, 2), 0.25));
            h = F.Dropout(F.Relu(fc1.Forward(h)), 0.5);
            return F.LogSoftmax(fc2.Forward(h), 1);
        };
    }, F.NllLoss, () => new Adadelta(0.5));

    /// <summary>784-512-512-10 with ReLU, cross entropy, Adam.</summary>
    public static readonly ModelSpec Mlp = new("mlp", [784], g =>
    {
        var l1 = new Linear(g, "fc1", 784, 512);
        var l2 = new Linear(g, "fc2", 512, 512);
        var l3 = new Linear(g, "fc3", 512, 10);
        return x => l3.Forward(F.Relu(l2.Forward(F.Relu(l1.Forward(x)))));
    }, F.CrossEntropy, () => new Adam());

    /// <summary>LSTM (28 → 128 over 28 steps, an F.Scan), then Linear(128, 10), cross entropy, Adam.</summary>
    public static readonly ModelSpec Lstm = LstmModel("lstm", unroll: false);

    /// <summary>The same LSTM unrolled over its 28 steps.</summary>
    public static readonly ModelSpec LstmUnrolled = LstmModel("lstm-unrolled", unroll: true);

    private static ModelSpec LstmModel(string name, bool unroll) => new(name, [28, 28], g =>
    {
        var lstm = new LSTM(g, "lstm", 28, 128, batchFirst: true) { Unroll = unroll };
        var fc = new Linear(g, "fc", 128, 10);
        return x => fc.Forward(F.Reshape(lstm.Forward(x).State.H, -1, 128)); // h_n [1, N, 128]: the last step's h
    }, F.CrossEntropy, () => new Adam());

    /// <summary>A random batch of inputs and labels (fixed seed).</summary>
    public (NDArray Inputs, NDArray Labels) Batch(int size, int seed = 0)
    {
        var rng = new Random(seed);
        var x = new float[size * SampleShape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        var l = new long[size];
        for (int i = 0; i < size; i++) l[i] = rng.Next(10);
        return (new NDArray(DType.Float32, [size, .. SampleShape], x), NDArray.From(l, size));
    }

    /// <summary>The training step and the inference function of this model on an executor.</summary>
    public (Executor.StepFunction Train, Executor.StepFunction Infer) Functions(Executor exec)
    {
        var forward = Define(exec.Graph);
        var optimizer = Optimizer();
        var input = TensorSpec.Float("input", [-1, .. SampleShape]);
        var train = exec.Function([input, TensorSpec.Int64("labels", -1)], xs =>
        {
            var loss = Loss(forward(xs[0]), xs[1]);
            return [loss, optimizer.Minimize(loss)];
        });
        var infer = exec.Function([input], xs => [forward(xs[0])]);
        return (train, infer);
    }
}

/// <summary>A model's training step built once as a graph (deferred), for tests and the step command.</summary>
public sealed record BenchModel(Graph Graph, Tensor Input, Tensor Labels, Tensor Loss, Tensor TrainStep, Tensor Output, ModelSpec Spec)
{
    public static BenchModel Create(string name) => Build(ModelSpec.Get(name));
    public static BenchModel Cnn() => Build(ModelSpec.Cnn);
    public static BenchModel Mlp() => Build(ModelSpec.Mlp);
    public static BenchModel Lstm() => Build(ModelSpec.Lstm);
    public static BenchModel LstmUnrolled() => Build(ModelSpec.LstmUnrolled);

    public static BenchModel Build(ModelSpec spec)
    {
        var g = new Graph(seed: 1);
        var forward = spec.Define(g);
        var x = g.Placeholder([-1, .. spec.SampleShape], spec.Name == "cnn" ? "images" : "x");
        var y = g.Placeholder(DType.Int64, [-1], "labels");
        var output = forward(x);
        var loss = spec.Loss(output, y);
        return new BenchModel(g, x, y, loss, spec.Optimizer().Minimize(loss), output, spec);
    }

    /// <summary>Feeds for a random batch (fixed seed).</summary>
    public Dictionary<Tensor, NDArray> Batch(int size, int seed = 0)
    {
        var (x, l) = Spec.Batch(size, seed);
        return new() { [Input] = x, [Labels] = l };
    }
}
