using GraphNet.Nn;
using GraphNet.Train;

namespace GraphNet.Bench;

/// <summary>The benchmark models: a training step graph with its inputs.</summary>
public sealed record BenchModel(Graph Graph, Tensor Input, Tensor Labels, Tensor Loss, Tensor TrainStep, Tensor Output, int[] SampleShape)
{
    public static BenchModel Create(string name) => name switch
    {
        "cnn" => Cnn(),
        "mlp" => Mlp(),
        "lstm" => Lstm(),
        _ => throw new ArgumentException($"unknown model '{name}': use cnn, mlp or lstm"),
    };

    /// <summary>The book's CNN with Adadelta (lr 0.5).</summary>
    public static BenchModel Cnn()
    {
        var g = new Graph(seed: 1);
        var x = g.Placeholder([-1, 1, 28, 28], "images");
        var y = g.Placeholder(DType.Int64, [-1], "labels");
        var conv1 = new Conv2d(g, "conv1", 1, 32, 3);
        var conv2 = new Conv2d(g, "conv2", 32, 64, 3);
        var fc1 = new Linear(g, "fc1", 9216, 128);
        var fc2 = new Linear(g, "fc2", 128, 10);
        var h = F.Relu(conv2.Forward(F.Relu(conv1.Forward(x))));
        h = F.Flatten(F.Dropout(F.MaxPool2d(h, 2), 0.25));
        h = F.Dropout(F.Relu(fc1.Forward(h)), 0.5);
        var logp = F.LogSoftmax(fc2.Forward(h), 1);
        var loss = F.NllLoss(logp, y);
        return new BenchModel(g, x, y, loss, new Adadelta(0.5).Minimize(loss), logp, [1, 28, 28]);
    }

    /// <summary>784-512-512-10 with ReLU and Adam.</summary>
    public static BenchModel Mlp()
    {
        var g = new Graph(seed: 1);
        var x = g.Placeholder([-1, 784], "x");
        var y = g.Placeholder(DType.Int64, [-1], "labels");
        var l1 = new Linear(g, "fc1", 784, 512);
        var l2 = new Linear(g, "fc2", 512, 512);
        var l3 = new Linear(g, "fc3", 512, 10);
        var logits = l3.Forward(F.Relu(l2.Forward(F.Relu(l1.Forward(x)))));
        var loss = F.CrossEntropy(logits, y);
        return new BenchModel(g, x, y, loss, new Adam().Minimize(loss), logits, [784]);
    }

    /// <summary>LSTM (28 → 128 over 28 steps), then Linear(128, 10), with Adam.</summary>
    public static BenchModel Lstm()
    {
        var g = new Graph(seed: 1);
        var x = g.Placeholder([-1, 28, 28], "x");
        var y = g.Placeholder(DType.Int64, [-1], "labels");
        var lstm = new LSTM(g, "lstm", 28, 128);
        var fc = new Linear(g, "fc", 128, 10);
        var (_, last) = lstm.Forward(x);
        var logits = fc.Forward(last);
        var loss = F.CrossEntropy(logits, y);
        return new BenchModel(g, x, y, loss, new Adam().Minimize(loss), logits, [28, 28]);
    }

    /// <summary>A random batch of inputs and labels (fixed seed).</summary>
    public Dictionary<Tensor, NDArray> Batch(int size, int seed = 0)
    {
        var rng = new Random(seed);
        var x = new float[size * SampleShape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        var l = new long[size];
        for (int i = 0; i < size; i++) l[i] = rng.Next(10);
        return new() { [Input] = new NDArray(DType.Float32, [size, .. SampleShape], x), [Labels] = NDArray.From(l, size) };
    }
}
