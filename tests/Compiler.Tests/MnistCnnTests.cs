using GraphNet.Compiler;
using GraphNet.Nn;
using GraphNet.Runtime.Data;
using GraphNet.Train;

namespace GraphNet.Compiler.Tests;

/// <summary>End to end: the book's CNN learns Fashion-MNIST (CI installs the Debian package).</summary>
public class MnistCnnTests
{
    [Fact]
    public void TheBooksCnnLearnsFashionMnist()
    {
        var dir = Mnist.FindDirectory();
        var train = Mnist.Load(dir, train: true).Take(1600);
        var test = Mnist.Load(dir, train: false).Take(500);

        var g = new Graph(seed: 1);
        var images = g.Placeholder([-1, 1, 28, 28], "images");
        var labels = g.Placeholder(DType.Int64, [-1], "labels");
        var conv1 = new Conv2d(g, "conv1", 1, 32, 3);
        var conv2 = new Conv2d(g, "conv2", 32, 64, 3);
        var fc1 = new Linear(g, "fc1", 9216, 128);
        var fc2 = new Linear(g, "fc2", 128, 10);
        var h = F.Relu(conv2.Forward(F.Relu(conv1.Forward(images))));
        h = F.Flatten(F.Dropout(F.MaxPool2d(h, 2), 0.25));
        h = F.Dropout(F.Relu(fc1.Forward(h)), 0.5);
        var logProbs = F.LogSoftmax(fc2.Forward(h), 1);
        var loss = F.NllLoss(logProbs, labels);
        var step = new Adadelta(0.5).Minimize(loss);
        var predicted = F.ArgMax(logProbs, 1);

        using var s = new Session(g);
        var losses = new List<double>();
        foreach (var b in new DataLoader(train, 32, shuffle: true, seed: 1).Epoch(0))
            losses.Add(s.Run([loss, step], new Dictionary<Tensor, NDArray> { [images] = b.Images, [labels] = b.Labels })[0].Item());

        var p = s.Run(predicted, new Dictionary<Tensor, NDArray> { [images] = NDArray.From(test.Images, test.Count, 1, 28, 28), [g.Training] = NDArray.From([false]) }).As<long>();
        double accuracy = p.Zip(test.Labels).Count(t => t.First == t.Second) / (double)test.Count;
        Assert.True(losses.Take(5).Average() > 1.5, $"first losses {losses.Take(5).Average()} should be near ln 10");
        Assert.True(losses.TakeLast(10).Average() < 1.2, $"loss after 50 steps is {losses.TakeLast(10).Average()}");
        Assert.True(accuracy > 0.6, $"test accuracy {accuracy} after 1,600 images");
    }
}
