using System.Diagnostics;
using GraphNet.Compiler;
using GraphNet.Runtime.Kernels;

namespace GraphNet.Bench;

/// <summary>
/// Differential fuzzing against an independent oracle: each random graph (<see cref="Build"/>) runs
/// on the interpreter and on a compiling backend, and both are judged against the reference
/// evaluation (<see cref="Reference"/>: plain loops, never the library kernels that the
/// interpreter and compiled code share) of the same graph in float64. A mismatch is shrunk to the
/// fewest steps that still show it.
/// </summary>
public static partial class Fuzz
{
    /// <summary>
    /// The error allowed against a fetch's largest finite magnitude. float32 rounds to 6e-8 of a value; a sum of K
    /// terms is off by up to about K·6e-8 of their largest, and these graphs' longest sums (convolutions' C·kh·kw,
    /// a gradient's sum over N·H·W, a scan's 40 steps) run to about a thousand terms: 1e-4 leaves a margin over that,
    /// while a wrong kernel (a wrong constant, index or a missed write) is wrong by the size of the values.
    /// </summary>
    public const double NormwiseRtol = 1e-4;
    /// <summary>
    /// Where cancellation leaves an element small beside the terms it came from, float32 cannot get it to 1e-4 of
    /// the fetch; the float32 reference evaluation's own error there measures how hard it is, and a backend may
    /// be this many times further from the float64 oracle than that.
    /// </summary>
    public const double ConditioningFactor = 4;

    /// <summary>
    /// The first element where a backend is wrong, or null. The interpreter runs always, then the compiled
    /// backend of <paramref name="backend"/> (default C#), then (with <paramref name="eager"/>) eager mode.
    /// </summary>
    public static string? Compare(int seed, IReadOnlySet<int>? enabled = null, SessionOptions? backend = null, bool eager = true)
    {
        var c = Build(seed, enabled);
        var c64 = Build(seed, enabled, DType.Float64);
        NDArray[] oracle, ref32;
        try
        {
            oracle = Reference.Run(c64.Fetches, c64.Feeds, c64.Variables);
            ref32 = Reference.Run(c.Fetches, c.Feeds, c.Variables);
        }
        catch (Exception e) { return $"reference evaluation failed: {e.Message}"; }
        var compiled = backend ?? new SessionOptions { UseCompileCache = false, VerifyPasses = true };
        foreach (var options in new[] { new SessionOptions { Backend = Backend.Interpreter }, compiled })
        {
            NDArray[] actual;
            try
            {
                using var session = new Session(c.Graph, options);
                actual = session.Run(c.Fetches, c.Feeds);
            }
            catch (Exception e) { return $"{options.Backend} run failed: {e.Message}"; }
            if (JudgeAll(options.Backend.ToString(), c, actual, oracle, ref32) is { } problem) return problem;
        }
        if (!eager) return null;
        NDArray[] stepped;
        try { stepped = RunEagerly(seed, enabled); }
        catch (Exception e) { return $"eager run failed: {e.Message}"; }
        return JudgeAll("eager", c, stepped, oracle, ref32);
    }

    private static string? JudgeAll(string who, Case c, NDArray[] actual, NDArray[] oracle, NDArray[] ref32)
    {
        for (int i = 0; i < c.Fetches.Length; i++)
            if (Judge(actual[i], oracle[i], ref32[i]) is { } problem)
                return $"{who}: fetch {i} ('{c.Fetches[i].Name}') {problem}";
        return null;
    }

    /// <summary>
    /// The first element of <paramref name="actual"/> that neither the float64 oracle nor the float32 reference
    /// evaluation supports, or null. Non-finite values must be the same (NaN, +Inf or -Inf) as in one of them.
    /// Agreeing with the float32 reference is enough because it is independent of the library kernels too, and
    /// where float32 takes the other side of a discontinuity than float64 (a comparison, a ReLU's gradient at a
    /// near-zero input, an argmax between near-equal values) it is the right answer in float32.
    /// </summary>
    public static string? Judge(NDArray actual, NDArray oracle, NDArray ref32)
    {
        if (!actual.Shape.SequenceEqual(oracle.Shape))
            return $"has shape [{string.Join(",", actual.Shape)}], the reference [{string.Join(",", oracle.Shape)}]";
        double scaleO = LargestFinite(oracle), scaleR = LargestFinite(ref32);
        for (int j = 0; j < actual.Size; j++)
        {
            double a = actual.GetDouble(j), o = oracle.GetDouble(j), r = ref32.GetDouble(j);
            if (!double.IsFinite(a) || !double.IsFinite(o) || !double.IsFinite(r))
            {
                if (a.Equals(o) || a.Equals(r)) continue; // Equals: NaN equals NaN
            }
            else if (!actual.DType.IsFloat())
            {
                if (a == o || a == r) continue;
            }
            else if (Math.Abs(a - o) <= NormwiseRtol * scaleO + 1e-30
                || Math.Abs(a - o) <= ConditioningFactor * Math.Abs(r - o)
                || Math.Abs(a - r) <= NormwiseRtol * scaleR + 1e-30) continue;
            return $"element {j}: {a}, float64 reference {o}, float32 reference {r} " +
                $"(error {Math.Abs(a - o) / scaleO:G2} of the fetch's largest magnitude {scaleO:G4})";
        }
        return null;
    }

    private static double LargestFinite(NDArray x)
    {
        double m = 0;
        for (int i = 0; i < x.Size; i++)
        {
            double v = Math.Abs(x.GetDouble(i));
            if (double.IsFinite(v) && v > m) m = v;
        }
        return m;
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

    private static SessionOptions? OptionsFor(Backend backend) => backend == Backend.Ilgpu
        ? new SessionOptions { Backend = Backend.Ilgpu, Accelerator = AcceleratorKind.Cpu, UseCompileCache = false }
        : null;

    /// <summary>bench -- fuzz --count N --seed S [--save DIR]: runs N graphs; shrinks and saves each mismatch as a regression case.</summary>
    public static int Command(int count, int seed, string saveDir, Backend backend)
    {
        var options = OptionsFor(backend);
        var clock = Stopwatch.StartNew();
        int mismatches = 0, nonFinite = 0;
        var kinds = new Dictionary<string, int>();
        for (int i = 0; i < count; i++)
        {
            int s = seed + i;
            if (s % NonFiniteShare == 0) nonFinite++;
            foreach (var k in Build(s).Kinds) kinds[k] = kinds.GetValueOrDefault(k) + 1;
            if (Compare(s, backend: options) is not { } problem)
            {
                if ((i + 1) % 100 == 0) Console.WriteLine($"  {i + 1}/{count} graphs, {mismatches} mismatches, {clock.Elapsed.TotalSeconds:F0} s");
                continue;
            }
            mismatches++;
            var kept = Shrink(s, options);
            var small = Build(s, kept);
            string found = Compare(s, kept, options) ?? problem;
            Console.WriteLine($"MISMATCH seed {s}: {problem}\n  shrunk to steps [{string.Join(",", kept.Order())}]" +
                $" ({string.Join(", ", small.Kinds)}): {found}\n{small.Graph.ToText()}");
            Directory.CreateDirectory(saveDir);
            File.WriteAllText(Path.Combine(saveDir, $"seed-{s}.txt"),
                $"seed={s}\nbackend={(backend == Backend.Ilgpu ? "ilgpu" : "csharp")}\nsteps={string.Join(",", kept.Order())}\n" +
                $"# steps: {string.Join(", ", small.Kinds)}\n" + string.Join("\n", found.Split('\n').Select(l => "# " + l)) + "\n" +
                string.Join("\n", small.Graph.ToText().Split('\n').Select(l => "# " + l)));
        }
        Console.WriteLine($"steps drawn: {string.Join(", ", kinds.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value}"))}");
        Console.WriteLine($"fuzz: {count} graphs from seed {seed} ({nonFinite} with NaN and infinities), backend {backend}, " +
            $"{mismatches} mismatches, {clock.Elapsed.TotalSeconds:F0} s");
        Console.WriteLine($"fuzz_graphs={count}\nfuzz_mismatches={mismatches}\nfuzz_seconds={clock.Elapsed.TotalSeconds:F0}");
        return mismatches == 0 ? 0 : 1;
    }

    /// <summary>A saved regression case: (seed, enabled steps, the backend it failed on).</summary>
    public static (int Seed, HashSet<int> Steps, SessionOptions? Backend) ReadCase(string path)
    {
        var lines = File.ReadAllLines(path).Where(l => !l.StartsWith('#')).ToDictionary(l => l.Split('=')[0], l => l.Split('=', 2)[1]);
        var backend = OptionsFor(lines.GetValueOrDefault("backend") == "ilgpu" ? Backend.Ilgpu : Backend.CSharp);
        return (int.Parse(lines["seed"]), lines["steps"].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToHashSet(), backend);
    }
}

/// <summary>
/// The fuzzer's mutation check: deliberately wrong library kernels (<see cref="PlantedFault"/>), each of which
/// the fuzz run must catch.
/// </summary>
public static class FuzzMutants
{
    /// <summary>The planted bugs: a wrong constant, an index off by one, a missed write, across the library's kernels.</summary>
    internal static readonly (Type Op, FaultKind Kind)[] All =
    [
        (typeof(SoftmaxOp), FaultKind.Scaled), (typeof(MatMulOp), FaultKind.OffByOne), (typeof(Conv2dOp), FaultKind.DroppedWrite),
        (typeof(ConvTranspose2dOp), FaultKind.Scaled), (typeof(Conv2dFilterGradOp), FaultKind.OffByOne),
        (typeof(Pool2dOp), FaultKind.DroppedWrite), (typeof(Pool2dGradOp), FaultKind.Scaled),
        (typeof(SliceOp), FaultKind.OffByOne), (typeof(ConcatOp), FaultKind.DroppedWrite), (typeof(PadOp), FaultKind.Scaled),
        // Eager mode's own vectorized kernels, which neither the interpreter nor compiled code calls.
        (typeof(UnaryOp), FaultKind.Scaled), (typeof(BinaryOp), FaultKind.OffByOne), (typeof(ReduceOp), FaultKind.DroppedWrite),
    ];

    /// <summary>
    /// The first seed from <paramref name="seed"/> whose graph shows the planted bug, and what it said; null when
    /// none of <paramref name="count"/> did.
    /// </summary>
    internal static (int Seed, string Problem)? FirstCatch(Type op, FaultKind kind, int seed, int count)
    {
        using var fault = PlantedFault.Plant(op, kind);
        for (int s = seed; s < seed + count; s++)
            if (Fuzz.Compare(s) is { } problem) return (s, problem);
        return null;
    }

    /// <summary>bench -- fuzz-mutants --count N: for each planted bug, the first of N graphs that catches it.</summary>
    public static int Command(int count, int seed)
    {
        int missed = 0;
        foreach (var (op, kind) in All)
        {
            var clock = Stopwatch.StartNew();
            var caught = FirstCatch(op, kind, seed, count);
            if (caught is null) missed++;
            Console.WriteLine($"{op.Name,-20} {kind,-13} " + (caught is { } c
                ? $"caught by seed {c.Seed} ({clock.Elapsed.TotalSeconds:F1} s): {c.Problem[..Math.Min(140, c.Problem.Length)]}"
                : $"MISSED by {count} graphs"));
        }
        Console.WriteLine($"mutants={All.Length}\nmutants_missed={missed}");
        return missed == 0 ? 0 : 1;
    }
}
