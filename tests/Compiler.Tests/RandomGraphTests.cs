namespace GraphNet.Compiler.Tests;

/// <summary>Randomly generated graphs (pointwise with broadcasting, reductions, matmul, conv, pooling, reshapes, and their gradients) compiled against the interpreter.</summary>
public class RandomGraphTests
{
    public static TheoryData<int> Seeds => new(Enumerable.Range(1, 24));

    [Theory, MemberData(nameof(Seeds))]
    public void CompiledMatchesInterpreter(int seed)
    {
        var (g, fetches, feeds) = RandomGraph.Build(seed);
        BackendParity.Check(g, fetches, feeds, $"random graph {seed}\n{g.ToText()}", rtol: 2e-4, atol: 2e-5);
    }
}

/// <summary>A small generator of valid graphs over a [N, C, H, W] image and an [N, F] matrix.</summary>
public static class RandomGraph
{
    public static (Graph, Tensor[], Dictionary<Tensor, NDArray>) Build(int seed)
    {
        var rng = new Random(seed);
        var g = new Graph(seed);
        int c = rng.Next(1, 4), h = rng.Next(4, 8), f = rng.Next(3, 9), n = rng.Next(1, 5);
        var img = g.Placeholder([-1, c, h, h], "img");
        var mat = g.Placeholder([-1, f], "mat");
        var feeds = new Dictionary<Tensor, NDArray> { [img] = BackendParity.Random(rng, [n, c, h, h]), [mat] = BackendParity.Random(rng, [n, f]) };
        var image = img; var m = mat;
        var unary = Pointwise.Unary.Where(u => u.Name is not ("log" or "sqrt" or "rsqrt" or "sign")).ToArray();
        for (int step = 0; step < 6; step++)
        {
            switch (rng.Next(9))
            {
                case 0: image = F.Unary(unary[rng.Next(unary.Length)], image, 0.2); break;
                case 1: m = F.Unary(unary[rng.Next(unary.Length)], m, 0.2); break;
                case 2: // broadcast against a per-channel or per-feature tensor
                    var bias = g.Placeholder([image.Shape[1], 1, 1], $"b{step}");
                    feeds[bias] = BackendParity.Random(rng, [image.Shape[1], 1, 1]);
                    image = rng.Next(2) == 0 ? image * bias : image - bias; break;
                case 3:
                    var w = g.Placeholder([m.Shape[1], f], $"w{step}");
                    feeds[w] = BackendParity.Random(rng, [m.Shape[1], f]);
                    m = F.MatMul(m, w); break;
                case 4 when image.Shape[2] >= 3:
                    var k = g.Placeholder([2, image.Shape[1], 3, 3], $"k{step}");
                    feeds[k] = BackendParity.Random(rng, [2, image.Shape[1], 3, 3]);
                    image = F.Conv2d(image, k, null, padding: rng.Next(2)); break;
                case 5 when image.Shape[2] >= 2: image = rng.Next(2) == 0 ? F.MaxPool2d(image, 2) : F.AvgPool2d(image, 2); break;
                case 6: m = m + F.Mean(m, [1], keepDims: true) * F.Max(m, [0], keepDims: true); break;
                case 7: m = F.Softmax(m, 1) + F.Tanh(m); break;
                default: image = F.Relu(image) + F.Sigmoid(image) * 0.5; break;
            }
        }
        // Join the two branches: flatten the image, project to the matrix's width, and add.
        var flat = F.Flatten(image);
        var proj = g.Placeholder([flat.Shape[1], m.Shape[1]], "proj");
        feeds[proj] = BackendParity.Random(rng, [flat.Shape[1], m.Shape[1]], -0.3, 0.3);
        var y = F.MatMul(flat, proj) + m;
        var loss = F.Sum(F.Square(y)) + F.Sum(F.Exp(F.LogSoftmax(y, 1)));
        var grads = F.Gradients([loss], feeds.Keys.ToList()).Where(t => t is not null).Cast<Tensor>();
        return (g, [y, loss, .. grads], feeds);
    }
}
