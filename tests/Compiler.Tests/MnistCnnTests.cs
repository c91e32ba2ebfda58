using GraphNet.Compiler;
using GraphNet.Bench;
using GraphNet.Runtime.Data;

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

        var m = BenchModel.Cnn();
        var (g, images, labels, loss, step) = (m.Graph, m.Input, m.Labels, m.Loss, m.TrainStep);
        var predicted = F.ArgMax(m.Output, 1);

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
