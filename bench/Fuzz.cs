using System.Diagnostics;
using GraphNet.Compiler;

namespace GraphNet.Bench;

/// <summary>
/// Differential fuzzing: random valid graphs (pointwise ops with broadcasting, reductions,
/// softmax, matmul, conv, pooling, reshapes and transposes, slices and concatenations, and the
/// gradients of all of them)
/// run compiled and interpreted, compared element by element. A mismatch is shrunk to the
/// fewest steps that still show it. Each step draws from its own generator, so removing a
/// step leaves the others as they were.
/// </summary>
public static class Fuzz
{
    public const double Rtol = 2e-4, Atol = 2e-5;
    /// <summary>
    /// The largest error allowed against a fetch's largest magnitude (float32 has 6e-8 relative precision; fusion
    /// reorders sums of up to thousands of terms).
    /// </summary>
    public const double NormwiseRtol = 1e-4;
    /// <summary>
    /// Eight random steps, then one of slices and concatenations (last, so that saved cases from before it keep
    /// their graphs: their step lists leave it out).
    /// </summary>
    public const int Steps = 9;

    public sealed record Case(Graph Graph, Tensor[] Fetches, Dictionary<Tensor, NDArray> Feeds);

    public static NDArray Random(Random rng, int[] shape, double lo = -1, double hi = 1, DType dtype = DType.Float32)
    {
        var a = new float[shape.Aggregate(1, (p, d) => p * d)];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(lo + (hi - lo) * rng.NextDouble());
        var x = new NDArray(DType.Float32, shape, a);
        return dtype == DType.Float32 ? x : CastOp.Convert(x, dtype); // the same values, widened
    }

    /// <summary>
    /// The graph for a seed, with only the steps in <paramref name="enabled"/> (default all).
    /// In float64 it is the same graph on the same (widened) inputs: the oracle for rounding.
    /// </summary>
    public static Case Build(int seed, IReadOnlySet<int>? enabled = null, DType dtype = DType.Float32)
    {
        var rng = new Random(seed);
        var g = new Graph(seed);
        NDArray Random(Random r, int[] shape, double lo = -1, double hi = 1) => Fuzz.Random(r, shape, lo, hi, dtype);
        int c = rng.Next(1, 4), h = rng.Next(4, 8), f = rng.Next(3, 9), n = rng.Next(1, 5);
        var img = g.Placeholder(dtype, [-1, c, h, h], "img");
        var mat = g.Placeholder(dtype, [-1, f], "mat");
        var feeds = new Dictionary<Tensor, NDArray> { [img] = Random(rng, [n, c, h, h]), [mat] = Random(rng, [n, f]) };
        Tensor image = img, m = mat;
        var unary = Pointwise.Unary.Where(u => u.Name is not ("log" or "sqrt" or "rsqrt" or "sign")).ToArray();
        var binary = new[] { Pointwise.Add, Pointwise.Sub, Pointwise.Mul, Pointwise.Maximum, Pointwise.Minimum };
        for (int step = 0; step < Steps; step++)
        {
            var r = new Random(seed * 1000 + step);
            int kind = step == Steps - 1 ? -1 : r.Next(12);
            if (enabled is not null && !enabled.Contains(step)) continue;
            switch (kind)
            {
                case 0: image = F.Unary(unary[r.Next(unary.Length)], image, 0.2); break;
                case 1: m = F.Unary(unary[r.Next(unary.Length)], m, 0.2); break;
                case 2:
                    var bias = g.Placeholder(dtype, [image.Shape[1], 1, 1], $"b{step}");
                    feeds[bias] = Random(r, [image.Shape[1], 1, 1]);
                    image = F.Binary(binary[r.Next(binary.Length)], image, bias); break;
                case 3:
                    int outF = r.Next(2, 9);
                    var w = g.Placeholder(dtype, [m.Shape[1], outF], $"w{step}");
                    feeds[w] = Random(r, [m.Shape[1], outF]);
                    m = F.MatMul(m, w); break;
                case 4 when image.Shape[2] >= 3:
                    var k = g.Placeholder(dtype, [r.Next(1, 4), image.Shape[1], 3, 3], $"k{step}");
                    feeds[k] = Random(r, k.Shape.ToArray());
                    image = F.Conv2d(image, k, null, padding: r.Next(2)); break;
                case 5 when image.Shape[2] >= 2:
                    image = r.Next(3) switch { 0 => F.MaxPool2d(image, 2), 1 => F.MinPool2d(image, 2), _ => F.AvgPool2d(image, 2) }; break;
                case 6: m = m + F.Mean(m, [1], keepDims: true) * F.Max(m, [0], keepDims: true); break;
                case 7: m = F.Softmax(m, 1) + F.Tanh(m); break;
                case 8: m = F.Reshape(F.Transpose(F.Reshape(m, -1, 1, m.Shape[1]), 0, 2, 1), -1, m.Shape[1]) * 1.5; break;
                case 9: m = F.Where(F.Greater(m, F.ZerosLike(m)), m, F.Square(m) * 0.5); break;
                case 10: image = image - F.Sum(image, [2, 3], keepDims: true) * 0.1; break;
                case -1: (m, image) = SlicesAndConcats(g, r, m, image, feeds, dtype, step); break;
                default: image = F.Relu(image) + F.Sigmoid(image) * 0.5; break;
            }
        }
        var flat = F.Flatten(image);
        var proj = g.Placeholder(dtype, [flat.Shape[1], m.Shape[1]], "proj");
        feeds[proj] = Random(rng, [flat.Shape[1], m.Shape[1]], -0.3, 0.3);
        var y = F.MatMul(flat, proj) + m;
        var loss = F.Sum(F.Square(y)) + F.Sum(F.Exp(F.LogSoftmax(y, 1)));
        var grads = F.Gradients([loss], feeds.Keys.ToList()).Where(t => t is not null).Cast<Tensor>();
        return new Case(g, [y, loss, .. grads], feeds);
    }

    /// <summary>
    /// Data movement: the columns of m cut in two, one part through a loop and the other through a
    /// loop or a GEMM, joined back in either order, plus a window of m beside itself; the image
    /// trimmed along a random axis. Slices read only by loops are read in place by compiled code;
    /// the others are copied.
    /// </summary>
    private static (Tensor M, Tensor Image) SlicesAndConcats(Graph g, Random r, Tensor m, Tensor image, Dictionary<Tensor, NDArray> feeds, DType dtype, int step)
    {
        int w = m.Shape[1];
        if (w >= 2)
        {
            int cut = r.Next(1, w);
            var left = F.Tanh(F.Slice(m, 1, 0, cut)) * 1.5;
            var right = F.Slice(m, 1, cut, w - cut);
            if (r.Next(2) == 0)
            {
                var wr = g.Placeholder(dtype, [w - cut, w - cut], $"wr{step}");
                feeds[wr] = Random(r, [w - cut, w - cut], -1, 1, dtype);
                right = F.MatMul(right, wr);
            }
            else right = F.Exp(right * 0.3);
            var joined = r.Next(2) == 0 ? F.Concat([left, right], 1) : F.Concat([right, left], 1);
            m = joined + F.Slice(F.Concat([m, m], 1), 1, r.Next(w + 1), w) * 0.5;
        }
        int axis = r.Next(1, 4), size = image.Shape[axis];
        if (size >= 2)
        {
            int start = r.Next(size - 1), length = r.Next(1, size - start + 1);
            var part = F.Slice(image, axis, start, length);
            image = r.Next(2) == 0 ? F.Sigmoid(part) + part * part : F.Reshape(F.Relu(F.Reshape(part, -1, (int)part.Shape.StaticSize)), [-1, .. part.Shape.Dims.Skip(1)]);
        }
        return (m, image);
    }

    /// <summary>
    /// The first element where compiled code disagrees with the interpreter beyond float32
    /// rounding, or null. Both run in float32; the same graph in float64 (interpreted) is the
    /// oracle: an element counts only when the two differ by more than the tolerance and the
    /// compiled value is clearly further from the oracle than the interpreter's (cancellation
    /// in long sums can make both drift; only a worse compiled result is a bug) and its error
    /// is also large against the fetch as a whole (norm-wise, as BLAS and LAPACK tests judge:
    /// an element that cancels to almost nothing, such as softmax's p - p·Σp, keeps the rounding
    /// error of its large terms, while a real bug is wrong by the size of the values).
    /// </summary>
    public static string? Compare(int seed, IReadOnlySet<int>? enabled = null, SessionOptions? backend = null)
    {
        var c = Build(seed, enabled);
        using var interp = new Session(c.Graph, new SessionOptions { Backend = Backend.Interpreter });
        using var compiled = new Session(c.Graph, backend ?? new SessionOptions { UseCompileCache = false, VerifyPasses = true });
        NDArray[] expected = interp.Run(c.Fetches, c.Feeds), actual;
        try { actual = compiled.Run(c.Fetches, c.Feeds); }
        catch (Exception e) { return $"compiled run failed: {e.Message}"; }
        NDArray[]? oracle = null;
        for (int i = 0; i < c.Fetches.Length; i++)
            for (int j = 0; j < expected[i].Size; j++)
            {
                double e = expected[i].GetDouble(j), a = actual[i].GetDouble(j);
                if (Math.Abs(e - a) <= Atol + Rtol * Math.Abs(e) || (double.IsNaN(e) && double.IsNaN(a))) continue;
                if (oracle is null)
                {
                    var c64 = Build(seed, enabled, DType.Float64);
                    using var s64 = new Session(c64.Graph, new SessionOptions { Backend = Backend.Interpreter });
                    oracle = s64.Run(c64.Fetches, c64.Feeds);
                }
                double o = oracle[i].GetDouble(j);
                if (Math.Abs(a - o) <= 4 * Math.Abs(e - o) + 1e-6 + 1e-5 * Math.Abs(o)) continue;
                double scale = Enumerable.Range(0, oracle[i].Size).Max(k => Math.Abs(oracle[i].GetDouble(k)));
                if (Math.Abs(a - o) <= NormwiseRtol * scale) continue;
                return $"fetch {i} ('{c.Fetches[i].Name}') element {j}: interpreter {e}, compiled {a}, float64 {o} (error {Math.Abs(a - o) / scale:G2} of the fetch's largest magnitude {scale:G4})";
            }
        return null;
    }

    /// <summary>Removes steps one at a time while the mismatch persists.</summary>
    public static HashSet<int> Shrink(int seed, SessionOptions? backend = null)
    {
        var kept = Enumerable.Range(0, Steps).ToHashSet();
        bool progress = true;
        while (progress)
        {
            progress = false;
            foreach (var s in kept.ToList())
            {
                var trial = new HashSet<int>(kept); trial.Remove(s);
                if (Compare(seed, trial, backend) is not null) { kept = trial; progress = true; }
            }
        }
        return kept;
    }

    /// <summary>bench -- fuzz --count N --seed S [--save DIR]: runs N graphs; shrinks and saves each mismatch as a regression case.</summary>
    public static int Command(int count, int seed, string saveDir, Backend backend)
    {
        var options = backend == Backend.Ilgpu ? new SessionOptions { Backend = Backend.Ilgpu, UseCompileCache = false } : null;
        var clock = Stopwatch.StartNew();
        int mismatches = 0;
        for (int i = 0; i < count; i++)
        {
            int s = seed + i;
            if (Compare(s, backend: options) is not { } problem)
            {
                if ((i + 1) % 100 == 0) Console.WriteLine($"  {i + 1}/{count} graphs, {mismatches} mismatches, {clock.Elapsed.TotalSeconds:F0} s");
                continue;
            }
            mismatches++;
            var kept = Shrink(s, options);
            var small = Build(s, kept);
            Console.WriteLine($"MISMATCH seed {s}: {problem}\n  shrunk to steps [{string.Join(",", kept.Order())}]: {Compare(s, kept, options)}\n{small.Graph.ToText()}");
            Directory.CreateDirectory(saveDir);
            File.WriteAllText(Path.Combine(saveDir, $"seed-{s}.txt"),
                $"seed={s}\nbackend={(backend == Backend.Ilgpu ? "ilgpu" : "csharp")}\nsteps={string.Join(",", kept.Order())}\n# {problem}\n" + string.Join("\n", small.Graph.ToText().Split('\n').Select(l => "# " + l)));
        }
        Console.WriteLine($"fuzz: {count} graphs from seed {seed}, {mismatches} mismatches, {clock.Elapsed.TotalSeconds:F0} s");
        return mismatches == 0 ? 0 : 1;
    }

    /// <summary>A saved regression case: (seed, enabled steps, the backend it failed on).</summary>
    public static (int Seed, HashSet<int> Steps, SessionOptions? Backend) ReadCase(string path)
    {
        var lines = File.ReadAllLines(path).Where(l => !l.StartsWith('#')).ToDictionary(l => l.Split('=')[0], l => l.Split('=', 2)[1]);
        var backend = lines.GetValueOrDefault("backend") == "ilgpu" ? new SessionOptions { Backend = Backend.Ilgpu, Accelerator = AcceleratorKind.Cpu, UseCompileCache = false } : null;
        return (int.Parse(lines["seed"]), lines["steps"].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToHashSet(), backend);
    }
}
