using GraphNet.Nn;

namespace GraphNet.Compiler.Tests;

/// <summary>
/// A float64 convolutional model runs on library kernels (Dgemm, float64 convolutions and pooling),
/// not the reference loops, and its loss and every gradient equal the float64 reference evaluation.
/// </summary>
public class Float64ModelTests
{
    [Fact]
    public void AFloat64CnnStepRunsOnLibraryKernelsAndEqualsTheReference()
    {
        var g = new Graph(seed: 4);
        var x = g.Placeholder(DType.Float64, [-1, 2, 10, 10], "x");
        var net = new Sequential(
            new Conv2d(2, 6, 3, dtype: DType.Float64), new ReLU(), new MaxPool2d(2),                  // 8 -> 4
            new Conv2d(6, 8, 4, stride: 2, padding: 1, dtype: DType.Float64), new Tanh(),             // 4 -> 2
            new ConvTranspose2d(8, 3, 4, stride: 2, padding: 1, dtype: DType.Float64), new AvgPool2d(2), // 2 -> 4 -> 2
            new Flatten(), new Linear(12, 5, dtype: DType.Float64));
        var loss = F.Sum(F.Square(net.Forward(x)));
        var grads = F.Gradients([loss], net.Parameters().Append(x).ToList()).Cast<Tensor>().ToArray();
        var rng = new Random(2);
        var xs = NDArray.From(Enumerable.Range(0, 600).Select(_ => rng.NextDouble() * 2 - 1).ToArray(), 3, 2, 10, 10);
        var feeds = new Dictionary<Tensor, NDArray> { [x] = xs };
        using var s = new Session(g, new SessionOptions { UseCompileCache = false });
        var exe = s.Compiled([loss, .. grads], feeds);
        Assert.DoesNotContain(exe.Report.ReferenceFallbacks, l => l.StartsWith("matmul") || l.StartsWith("conv") || l.Contains("pool"));
        Assert.Contains(exe.Kernels, k => k.Anchor?.Op is ConvTranspose2dOp && k.Anchor.Inputs[0].DType == DType.Float64);
        var got = s.Run([loss, .. grads], feeds);
        var want = Reference.Run([loss, .. grads], feeds, s.Variables.Values.ToDictionary(kv => kv.Key, kv => kv.Value));
        for (int i = 0; i < got.Length; i++)
        {
            Assert.Equal(DType.Float64, got[i].DType);
            for (int j = 0; j < want[i].Size; j++)
                Assert.True(Math.Abs(want[i].GetDouble(j) - got[i].GetDouble(j)) <= 1e-12 + 1e-10 * Math.Abs(want[i].GetDouble(j)),
                    $"{(i == 0 ? "loss" : $"gradient {i}")}[{j}]: {got[i].GetDouble(j)} vs the reference's {want[i].GetDouble(j)}");
        }
    }
}
