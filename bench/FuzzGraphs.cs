using GraphNet.Runtime;

namespace GraphNet.Bench;

/// <summary>
/// The fuzzer's graphs: an image [N,C,H,W] and a matrix [N,F] go through ten random steps, each
/// drawn from a table with an entry for every op GraphNet has (a test holds the table to that as
/// ops land), with strides, groups, dilation, padding and pool windows drawn at random; then a
/// loss of both and its gradients with respect to every input. A share of the graphs gets NaN
/// and infinities in its inputs. Each step draws from its own generator, so removing a step
/// leaves the others as they were (which is how a mismatch is shrunk).
/// </summary>
public static partial class Fuzz
{
    public const int Steps = 10;
    /// <summary>One graph in this many gets NaN, +Inf and -Inf among its inputs.</summary>
    public const int NonFiniteShare = 6;

    /// <summary>A built graph; in eager mode (<see cref="Eager"/>) its values were computed as it was built, in one step.</summary>
    public sealed record Case(Graph Graph, Tensor[] Fetches, Dictionary<Tensor, NDArray> Feeds,
        Dictionary<string, NDArray> Variables, string[] Kinds, EagerContext? Eager = null, IDisposable? EagerStep = null);

    public static NDArray Random(Random rng, int[] shape, double lo = -1, double hi = 1, DType dtype = DType.Float32)
    {
        var a = new float[shape.Aggregate(1, (p, d) => p * d)];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(lo + (hi - lo) * rng.NextDouble());
        var x = new NDArray(DType.Float32, shape, a);
        return dtype == DType.Float32 ? x : CastOp.Convert(x, dtype); // the same values, widened
    }

    /// <summary>The graph being built: its two running values and what it feeds, holds and fetches.</summary>
    private sealed class Builder(Graph g, DType dtype, int n, EagerContext? eager)
    {
        /// <summary>Eager mode's context, which needs each placeholder's value before the placeholder is used.</summary>
        public EagerContext? Eager { get; } = eager;
        /// <summary>The batch size fed.</summary>
        public int N { get; } = n;
        public Graph G { get; } = g;
        public DType D { get; } = dtype;
        public int Step { get; set; }
        public Tensor M = null!, Image = null!;
        public Dictionary<Tensor, NDArray> Feeds { get; } = [];
        public Dictionary<string, NDArray> Variables { get; } = [];
        /// <summary>Fetched beside y, the loss and the gradients (assignments, integer results).</summary>
        public List<Tensor> Extra { get; } = [];
        /// <summary>Assignments, made after the gradients: eager mode applies them at once, deferred mode at the end.</summary>
        public List<Action> AfterGradients { get; } = [];
        /// <summary>The inputs the gradients are taken with respect to.</summary>
        public List<Tensor> Differentiable { get; } = [];
        public List<string> Kinds { get; } = [];
        public int C => Image.Shape[1];
        public int H => Image.Shape[2];
        public int W => Image.Shape[3];
        public int F => M.Shape[1];

        /// <summary>A fed float input of a static shape, differentiated.</summary>
        public Tensor Input(Random r, int[] shape, string name, double lo = -1, double hi = 1)
        {
            var p = G.Placeholder(D, shape, $"{name}{Step}");
            Feed(p, Random(r, shape, lo, hi, D));
            Differentiable.Add(p);
            return p;
        }

        public void Feed(Tensor placeholder, NDArray value)
        {
            Feeds[placeholder] = value;
            Eager?.Set(placeholder, value);
        }

        /// <summary>The image or the matrix, picked at random, and a setter for the one picked.</summary>
        public (Tensor X, Action<Tensor> Set) Either(Random r) =>
            r.Next(2) == 0 ? (Image, v => Image = v) : (M, v => M = v);
    }

    /// <summary>
    /// The graph for a seed, with only the steps in <paramref name="enabled"/> (default all).
    /// In float64 it is the same graph on the same (widened) inputs: the oracle for rounding.
    /// </summary>
    public static Case Build(int seed, IReadOnlySet<int>? enabled = null, DType dtype = DType.Float32, bool eager = false)
    {
        var rng = new Random(seed);
        int c = rng.Next(1, 4), h = rng.Next(4, 8), f = rng.Next(3, 9), n = rng.Next(1, 5);
        var g = new Graph(seed);
        var context = eager ? new EagerContext(g) : null;
        var eagerStep = context?.Step();
        var b = new Builder(g, dtype, n, context);
        var img = g.Placeholder(dtype, [-1, c, h, h], "img");
        var mat = g.Placeholder(dtype, [-1, f], "mat");
        NDArray image = Random(rng, [n, c, h, h], -1, 1, dtype), matrix = Random(rng, [n, f], -1, 1, dtype);
        if (seed % NonFiniteShare == 0) PlantNonFinite(new Random(seed ^ 0x5eed), image, matrix);
        b.Feed(img, image);
        b.Feed(mat, matrix);
        b.Differentiable.AddRange([img, mat]);
        b.Image = img; b.M = mat;
        for (int step = 0; step < Steps; step++)
        {
            var r = new Random(seed * 1000 + step);
            var (name, apply) = Kinds[r.Next(Kinds.Length)];
            if (enabled is not null && !enabled.Contains(step)) continue;
            b.Step = step;
            if (!apply(b, r)) { (name, apply) = Kinds[0]; apply(b, r); }
            b.Kinds.Add(name);
        }
        var flat = F.Flatten(b.Image);
        b.Step = Steps;
        var proj = b.Input(rng, [flat.Shape[1], b.F], "proj", -0.3, 0.3);
        var y = F.MatMul(flat, proj) + b.M;
        var loss = F.Sum(F.Square(y)) + F.Sum(F.Exp(F.LogSoftmax(y, 1)));
        var wrt = b.Differentiable.Where(t => t.DType.IsFloat()).ToList();
        var grads = F.Gradients([loss], wrt).Where(t => t is not null).Cast<Tensor>().ToList();
        foreach (var assign in b.AfterGradients) assign();
        return new Case(g, [y, loss, .. b.Extra, .. grads], b.Feeds, b.Variables, [.. b.Kinds], context, eagerStep);
    }

    /// <summary>The fetches' values of the seed's graph in eager mode (op by op through the eager kernels).</summary>
    public static NDArray[] RunEagerly(int seed, IReadOnlySet<int>? enabled = null)
    {
        var c = Build(seed, enabled, eager: true);
        try { return c.Fetches.Select(t => c.Eager!.ValueOf(t)!.Clone()).ToArray(); }
        finally { c.EagerStep!.Dispose(); c.Eager!.Dispose(); }
    }

    /// <summary>Up to three elements of each input become NaN, +Inf or -Inf.</summary>
    private static void PlantNonFinite(Random r, params NDArray[] inputs)
    {
        foreach (var x in inputs)
            for (int k = r.Next(1, 4); k > 0; k--)
            {
                double v = r.Next(3) switch { 0 => double.NaN, 1 => double.PositiveInfinity, _ => double.NegativeInfinity };
                int at = r.Next(x.Size);
                if (x.Data is float[] f) f[at] = (float)v; else ((double[])x.Data)[at] = v;
            }
    }

    /// <summary>Every kind of step, by name; a step that does not fit the shapes at hand falls back to the first.</summary>
    private static readonly (string Name, Func<Builder, Random, bool> Apply)[] Kinds =
    [
        ("unary", Unary), ("binary", Binary), ("matmul", MatMulStep), ("conv2d", Conv), ("conv_transpose2d", ConvTranspose),
        ("pool", Pool), ("reduce", ReduceStep), ("softmax", SoftmaxStep), ("transpose", TransposeStep),
        ("compare_where", CompareWhere), ("pad", PadStep), ("gather", GatherStep), ("argmax_one_hot", ArgMaxOneHot),
        ("cast", CastStep), ("dropout", DropoutStep), ("scan", ScanStep), ("variable_assign", VariableAssign),
        ("slices_concats", SlicesAndConcats),
    ];

    private static readonly string[] PositiveOnly = ["log", "sqrt", "rsqrt"];

    private static bool Unary(Builder b, Random r)
    {
        var fn = Pointwise.Unary[r.Next(Pointwise.Unary.Count)];
        var (x, set) = b.Either(r);
        // Mostly inside the domain; sometimes outside, where NaN is the answer every backend must give.
        var arg = PositiveOnly.Contains(fn.Name) && r.Next(4) != 0 ? F.Abs(x) + 0.05 : x;
        set(F.Unary(fn, arg, 0.01 + 0.3 * r.NextDouble()));
        return true;
    }

    private static bool Binary(Builder b, Random r)
    {
        var fn = Pointwise.Binary[r.Next(Pointwise.Binary.Count)];
        var (x, set) = b.Either(r);
        bool onImage = ReferenceEquals(x, b.Image);
        int[] shape = r.Next(3) switch
        {
            0 => onImage ? [b.C, 1, 1] : [b.F],
            1 => onImage ? [1, b.H, b.W] : [1, 1],
            _ => [],
        };
        var other = shape.Length == 0 ? F.Tanh(x) : b.Input(r, shape, "operand", 0.5, 1.5);
        if (shape.Length > 0 && r.Next(2) == 0) other = -other;
        (Tensor lhs, Tensor rhs) = r.Next(2) == 0 ? (x, other) : (other, x);
        if (fn.Name == "div") rhs = F.Abs(rhs) + 0.5;              // away from zero
        if (fn.Name == "pow") (lhs, rhs) = (F.Abs(lhs) + 0.1, rhs * 2); // a positive base, exponents in [-3, 3]
        var y = F.Binary(fn, lhs, rhs, r.NextDouble());
        // The derivatives' own functions (relu_grad and the like) have no gradient: fetched beside the loss.
        if (fn.Name.EndsWith("_grad")) b.Extra.Add(y); else set(y);
        return true;
    }

    private static bool MatMulStep(Builder b, Random r)
    {
        if (r.Next(3) == 0)
        {
            // Batched: the image's rows [N, C·H, W] times a shared weight, or times themselves (attention's shape).
            int c = b.C, h = b.H, width = b.W;
            var rows = F.Reshape(b.Image, -1, c * h, width);
            bool shared = r.Next(2) == 0, tb = r.Next(2) == 0;
            var product = shared ? F.MatMul(rows, b.Input(r, [width, width], "wb", -0.5, 0.5), transB: tb)
                : F.MatMul(F.MatMul(rows, rows, transB: true) * 0.2, rows);
            b.Image = F.Reshape(product, -1, c, h, width);
            return true;
        }
        int outF = r.Next(2, 9);
        bool transB = r.Next(2) == 0;
        int[] shape = transB ? [outF, b.F] : [b.F, outF];
        int k = r.Next(1, 5);
        // Sometimes a product of two weights with the first transposed: m @ (A^T C).
        var w = r.Next(3) != 0 ? b.Input(r, shape, "w")
            : F.MatMul(b.Input(r, [k, shape[0]], "a"), b.Input(r, [k, shape[1]], "c"), transA: true) * 0.5;
        b.M = F.MatMul(b.M, w, transB: transB);
        return true;
    }

    private static int[] Divisors(int n) => Enumerable.Range(1, n).Where(d => n % d == 0).ToArray();

    private static bool Conv(Builder b, Random r)
    {
        int groups = Divisors(b.C)[r.Next(Divisors(b.C).Length)], outC = groups * r.Next(1, 4);
        int[] k = [r.Next(1, 4), r.Next(1, 4)], stride = [r.Next(1, 3), r.Next(1, 3)];
        int[] pad = [r.Next(3), r.Next(3)], dilation = [r.Next(1, 3), r.Next(1, 3)];
        var p = new ConvParams(stride, pad, dilation, groups);
        if (p.OutSize(0, b.H, k[0]) < 1 || p.OutSize(1, b.W, k[1]) < 1 || outC > 8) return false;
        var w = b.Input(r, [outC, b.C / groups, k[0], k[1]], "k");
        var bias = r.Next(2) == 0 ? b.Input(r, [outC], "bias") : null;
        b.Image = F.Conv2d(b.Image, w, bias, p.Stride, p.Padding, p.Dilation, groups);
        return true;
    }

    private static bool ConvTranspose(Builder b, Random r)
    {
        int groups = Divisors(b.C)[r.Next(Divisors(b.C).Length)], outC = groups * r.Next(1, 3);
        int k = r.Next(1, 4), stride = r.Next(1, 3), dilation = r.Next(1, 3), pad = r.Next(2);
        int outPad = r.Next(Math.Max(stride, dilation));
        int oh = (b.H - 1) * stride - 2 * pad + dilation * (k - 1) + outPad + 1;
        int ow = (b.W - 1) * stride - 2 * pad + dilation * (k - 1) + outPad + 1;
        if (oh < 1 || ow < 1 || oh > 14 || ow > 14 || outC > 8) return false;
        var w = b.Input(r, [b.C, outC / groups, k, k], "kt");
        var bias = r.Next(2) == 0 ? b.Input(r, [outC], "bias") : null;
        b.Image = F.ConvTranspose2d(b.Image, w, bias, stride, pad, outPad, groups, dilation);
        return true;
    }

    private static bool Pool(Builder b, Random r)
    {
        int[] k = [r.Next(1, 4), r.Next(1, 4)], stride = [r.Next(1, 4), r.Next(1, 4)];
        int[] pad = [r.Next(k[0] / 2 + 1), r.Next(k[1] / 2 + 1)];
        if (b.H + 2 * pad[0] < k[0] || b.W + 2 * pad[1] < k[1]) return false;
        var kind = (PoolKind)r.Next(3);
        b.Image = F.Pool2d(b.Image, new PoolParams(kind, k, stride, pad));
        return true;
    }

    private static bool ReduceStep(Builder b, Random r)
    {
        var (x, set) = b.Either(r);
        var axes = Enumerable.Range(0, x.Rank).Where(_ => r.Next(2) == 0).ToArray();
        if (axes.Length == 0) axes = [r.Next(x.Rank)];
        var kind = (ReduceKind)r.Next(4);
        bool keep = r.Next(2) == 0;
        var red = F.Reduce(kind, x, axes, keep);
        // Back to a shape that broadcasts against x: the reduced axes as 1, the batch as -1.
        if (!keep) red = F.Reshape(red, x.Shape.Dims.Select((d, i) => axes.Contains(i) ? 1 : d == Shape.Batch ? -1 : d).ToArray());
        if (r.Next(3) == 0) red = red / F.CountOf(x, axes);
        set(x + red * 0.5);
        return true;
    }

    private static bool SoftmaxStep(Builder b, Random r)
    {
        var (x, set) = b.Either(r);
        int axis = r.Next(x.Rank);
        set(r.Next(2) == 0 ? F.Softmax(x, axis) + F.Tanh(x) : F.LogSoftmax(x, axis) * 0.3 + x);
        return true;
    }

    private static bool TransposeStep(Builder b, Random r)
    {
        if (r.Next(2) == 0)
        {
            var m = b.M;
            b.M = F.Reshape(F.Transpose(F.Reshape(m, -1, 1, m.Shape[1]), 0, 2, 1), -1, m.Shape[1]) * 1.5;
            return true;
        }
        int[][] perms = [[0, 1, 3, 2], [0, 2, 1, 3], [0, 3, 2, 1], [0, 2, 3, 1], [0, 3, 1, 2]];
        b.Image = F.Transpose(b.Image, perms[r.Next(perms.Length)]);
        if (b.C > 8) b.Image = F.Slice(b.Image, 1, 0, 8); // keep convolutions small
        return true;
    }

    private static bool CompareWhere(Builder b, Random r)
    {
        var (x, set) = b.Either(r);
        var kind = (CompareKind)r.Next(6);
        var other = r.Next(3) switch { 0 => F.ZerosLike(x), 1 => F.Tanh(x) * 0.5, _ => F.Relu(x) };
        var cond = F.Compare(kind, x, other);
        var chosen = r.Next(2) == 0 ? F.Where(cond, x, F.Square(x) * 0.5) : F.Where(cond, x * 2, other);
        set(r.Next(2) == 0 ? chosen : chosen + F.Cast(cond, b.D) * 0.25);
        return true;
    }

    private static bool PadStep(Builder b, Random r)
    {
        double value = r.Next(2) == 0 ? 0 : r.NextDouble() - 0.5;
        if (r.Next(2) == 0)
        {
            int before = r.Next(3), after = r.Next(3);
            var padded = F.Pad(b.M, [0, 0, before, after], value);
            b.M = F.Slice(padded, 1, r.Next(before + after + 1), b.F) + b.M;
            return true;
        }
        int[] pads = [0, 0, r.Next(2), r.Next(2), r.Next(3), r.Next(3), r.Next(3), r.Next(3)];
        if (b.H + pads[4] + pads[5] > 14 || b.W + pads[6] + pads[7] > 14) return false;
        b.Image = F.Pad(b.Image, pads, value);
        return true;
    }

    private static bool GatherStep(Builder b, Random r)
    {
        if (r.Next(2) == 0)
        {
            // An embedding: a table's rows picked by fed indices, one per sample.
            int rows = r.Next(2, 9);
            var table = b.Input(r, [rows, b.F], "table");
            var idx = b.G.Placeholder(DType.Int32, [-1], $"idx{b.Step}");
            b.Feed(idx, new NDArray(DType.Int32, [b.N], Enumerable.Range(0, b.N).Select(_ => r.Next(rows)).ToArray()));
            b.M = b.M + F.Gather(table, idx);
            return true;
        }
        // Columns picked by constant indices (repeats allowed), then back to F columns through a weight.
        int k = r.Next(1, 6);
        var cols = b.G.Constant(new NDArray(DType.Int32, [k], Enumerable.Range(0, k).Select(_ => r.Next(b.F)).ToArray()), $"cols{b.Step}");
        var back = b.Input(r, [k, b.F], "back");
        b.M = b.M + F.MatMul(F.Gather(b.M, cols, 1), back) * 0.5;
        return true;
    }

    private static bool ArgMaxOneHot(Builder b, Random r)
    {
        int axis = r.Next(2);
        var arg = F.ArgMax(b.M, axis);
        b.Extra.Add(arg);
        if (axis == 0)
        {
            b.M = b.M + F.Reshape(F.Cast(arg, b.D), 1, -1) * 0.1;
            return true;
        }
        b.M = b.M + F.OneHot(arg, b.F, b.D) * b.M;
        return true;
    }

    private static bool CastStep(Builder b, Random r)
    {
        var (x, set) = b.Either(r);
        // Through float64 and back (in the float64 graph both casts are no-ops).
        set(F.Cast(F.Sigmoid(F.Cast(x, DType.Float64)) * 2, b.D));
        return true;
    }

    private static bool DropoutStep(Builder b, Random r)
    {
        var training = b.G.Placeholder(DType.Bool, [], $"training{b.Step}");
        b.Feed(training, new NDArray(DType.Bool, [], new[] { r.Next(4) != 0 }));
        var (x, set) = b.Either(r);
        var y = F.Dropout(x, 0.1 + 0.5 * r.NextDouble(), training, seed: b.Step + 1);
        // Random ops beside it (drawn after dropout's choices, so earlier seeds build what they did).
        int seed = 100 + b.Step;
        set(r.Next(4) switch
        {
            0 => y * F.RandLike(y, 0.5, 1.5, seed),
            1 => y + F.RandnLike(y, 0, 0.2, seed),
            2 => y * F.Bernoulli(F.ZerosLike(y) + 0.75, seed), // 0.75 is exact in float32: the same draws as in float64
            _ => y,
        });
        return true;
    }

    /// <summary>An RNN over the image's rows (C·H steps of W features), its outputs back in the image, its last state into m.</summary>
    private static bool ScanStep(Builder b, Random r)
    {
        int c = b.C, h = b.H, w = b.W;
        var seq = F.Reshape(b.Image, -1, c * h, w);
        var weight = b.Input(r, [w, w], "rnn", -0.5, 0.5);
        var init = F.Tanh(F.Mean(seq, [1]));
        var (carries, ys) = F.Scan((carry, x) =>
        {
            var next = F.Tanh(F.MatMul(carry[0], weight) + x[0]);
            return ([next], [next * x[0]]);
        }, [init], [seq], axis: 1, reverse: r.Next(2) == 0, recompute: r.Next(2) == 0);
        b.Image = F.Reshape(ys[0], -1, c, h, w) + b.Image * 0.5;
        var toM = b.Input(r, [w, b.F], "state");
        b.M = b.M + F.MatMul(carries[0], toM) * 0.5;
        return true;
    }

    private static bool VariableAssign(Builder b, Random r)
    {
        string name = $"v{b.Step}";
        var value = Random(r, [b.F], 0.5, 1.5, b.D);
        var v = b.G.Variable(name, [b.F], Initializer.FromValue(value), b.D);
        b.Variables[name] = value;
        b.Differentiable.Add(v);
        var m = b.M = b.M * v;
        b.AfterGradients.Add(() => b.Extra.Add(F.Group(F.Assign(v, v * 0.9 + F.Mean(m, [0]) * 0.1), F.Sum(m))));
        return true;
    }

    /// <summary>
    /// Data movement: the columns of m cut in two, one part through a loop and the other through a
    /// loop or a GEMM, joined back in either order, plus a window of m beside itself; the image
    /// trimmed along a random axis. Slices read only by loops are read in place by compiled code;
    /// the others are copied.
    /// </summary>
    private static bool SlicesAndConcats(Builder b, Random r)
    {
        var m = b.M;
        int w = m.Shape[1];
        if (w >= 2)
        {
            int cut = r.Next(1, w);
            var left = F.Tanh(F.Slice(m, 1, 0, cut)) * 1.5;
            var right = F.Slice(m, 1, cut, w - cut);
            right = r.Next(2) == 0 ? F.MatMul(right, b.Input(r, [w - cut, w - cut], "wr")) : F.Exp(right * 0.3);
            var joined = r.Next(2) == 0 ? F.Concat([left, right], 1) : F.Concat([right, left], 1);
            b.M = joined + F.Slice(F.Concat([m, m], 1), 1, r.Next(w + 1), w) * 0.5;
        }
        var image = b.Image;
        int axis = r.Next(1, 4), size = image.Shape[axis];
        if (size >= 2)
        {
            int start = r.Next(size - 1), length = r.Next(1, size - start + 1);
            var part = F.Slice(image, axis, start, length);
            b.Image = r.Next(2) == 0 ? F.Sigmoid(part) + part * part
                : F.Reshape(F.Relu(F.Reshape(part, -1, (int)part.Shape.StaticSize)), [-1, .. part.Shape.Dims.Skip(1)]);
        }
        return true;
    }
}
