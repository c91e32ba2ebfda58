namespace GraphNet;

/// <summary>
/// Random tensors in the graph (torch.rand, randn, bernoulli and the <c>_like</c> forms): new
/// values every run, the same on every backend and in eager mode. A seed left out is the op's
/// number among the graph's random ops, so a model built the same way draws the same values.
/// </summary>
public static partial class F
{
    private static int RandomSeed(Graph g, int? seed) => seed ?? g.Nodes.Count(n => n.Op is RandomOp) + 1;

    /// <summary>Uniform in [low, high), shaped like <paramref name="like"/> (its batch N included), as torch.rand_like.</summary>
    public static Tensor RandLike(Tensor like, double low = 0, double high = 1, int? seed = null) =>
        like.Graph.Add1(new RandomOp(RandomKind.Uniform, RandomSeed(like.Graph, seed), low, high, FloatOf(like), []), [like]);

    /// <summary>Normal with this mean and standard deviation, shaped like <paramref name="like"/>, as torch.randn_like.</summary>
    public static Tensor RandnLike(Tensor like, double mean = 0, double std = 1, int? seed = null) =>
        like.Graph.Add1(new RandomOp(RandomKind.Normal, RandomSeed(like.Graph, seed), mean, std, FloatOf(like), []), [like]);

    /// <summary>Uniform in [low, high) of a fixed shape, as torch.rand.</summary>
    public static Tensor Rand(Graph g, int[] shape, double low = 0, double high = 1, DType dtype = DType.Float32, int? seed = null) =>
        g.Add1(new RandomOp(RandomKind.Uniform, RandomSeed(g, seed), low, high, dtype, Fixed(shape, "rand")), []);

    /// <summary>Normal of a fixed shape, as torch.randn.</summary>
    public static Tensor Randn(Graph g, int[] shape, double mean = 0, double std = 1, DType dtype = DType.Float32, int? seed = null) =>
        g.Add1(new RandomOp(RandomKind.Normal, RandomSeed(g, seed), mean, std, dtype, Fixed(shape, "randn")), []);

    /// <summary>1 with probability p (each element of <paramref name="probabilities"/>), else 0, as torch.bernoulli.</summary>
    public static Tensor Bernoulli(Tensor probabilities, int? seed = null) =>
        probabilities.Graph.Add1(new RandomOp(RandomKind.Bernoulli, RandomSeed(probabilities.Graph, seed), 0, 0, FloatOf(probabilities), []),
            [probabilities]);

    private static DType FloatOf(Tensor t) => t.DType.IsFloat() ? t.DType : DType.Float32;

    private static int[] Fixed(int[] shape, string op) =>
        shape.All(d => d >= 0) ? shape
            : throw new GraphException($"{op}: shape [{string.Join(",", shape)}] must be fixed; use the _like form for one with the batch N");
}
