using GraphNet.Tests;

namespace GraphNet.Compiler.Tests;

/// <summary>
/// Every entry of the pointwise table, the comparisons and where, on every backend at NaN, ±∞,
/// ±0, ±1, denormals and huge values, placed inside whole vectors and in loop tails, and every
/// backend agrees with the interpreter (PyTorch's semantics: see <see cref="Formulas"/>).
/// </summary>
public class NumericsTableTests
{
    /// <summary>Three whole 512-bit vectors (six 256-bit) and a tail of five.</summary>
    private const int Length = 53;

    /// <summary>Every entry, comparison and where of a and b.</summary>
    private static (Tensor[] Fetches, string[] Names) Table(Tensor a, Tensor b)
    {
        var fetches = new List<Tensor>();
        var names = new List<string>();
        foreach (var fn in Pointwise.Unary) { fetches.Add(F.Unary(fn, a, 0.01)); names.Add(fn.Name); }
        foreach (var fn in Pointwise.Binary) { fetches.Add(F.Binary(fn, a, b, 0.01)); names.Add(fn.Name); }
        foreach (var kind in Enum.GetValues<CompareKind>())
        {
            // A comparison's bool, and where() choosing by it, both inside the fused loop.
            fetches.Add(F.Where(F.Compare(kind, a, b), a, b)); names.Add($"where({kind})");
            fetches.Add(F.Cast(F.Compare(kind, a, b), a.DType)); names.Add($"cast({kind})");
        }
        return (fetches.ToArray(), names.ToArray());
    }

    private static NDArray Fill(DType dtype, int length, Func<int, float> value)
    {
        var v = Enumerable.Range(0, length).Select(value).ToArray();
        return dtype == DType.Float32 ? NDArray.From(v, length) : NDArray.From(v.Select(f => (double)f).ToArray(), length);
    }

    public static TheoryData<string, DType> Cases => new()
    {
        { "compiled", DType.Float32 }, { "compiled", DType.Float64 }, { "ilgpu", DType.Float32 }, { "ilgpu", DType.Float64 },
        { "eager", DType.Float32 }, { "eager", DType.Float64 },
    };

    /// <summary>The table's fetches on a backend: deferred through a session, or eager through an executor's function.</summary>
    private static Func<NDArray, NDArray, NDArray[]> Backend(string backend, DType dtype, int length, List<IDisposable> owned)
    {
        if (backend == "eager")
        {
            var exec = new Executor(new Graph(), ExecutionMode.Eager);
            owned.Add(exec);
            var f = exec.Function([new TensorSpec(dtype, [length], "a"), new TensorSpec(dtype, [length], "b")], xs => Table(xs[0], xs[1]).Fetches);
            return (a, b) => f.Run([a, b]);
        }
        var g = new Graph();
        var (pa, pb) = (g.Placeholder(dtype, [length], "a"), g.Placeholder(dtype, [length], "b"));
        var fetches = Table(pa, pb).Fetches;
        var session = new Session(g, backend switch
        {
            "interpreter" => new SessionOptions { Backend = Compiler.Backend.Interpreter },
            "ilgpu" => BackendParity.Ilgpu,
            _ => new SessionOptions { UseCompileCache = false },
        });
        owned.Add(session);
        return (a, b) => session.Run(fetches, new Dictionary<Tensor, NDArray> { [pa] = a, [pb] = b });
    }

    [Theory, MemberData(nameof(Cases))]
    public void EveryEntryAgreesWithTheInterpreterAtTheEdges(string backend, DType dtype)
    {
        var s = Numerics.Specials;
        int pairs = s.Length * s.Length;
        // One run with every pair of specials side by side in the lanes of whole vectors (and a
        // few in the tail), then one run per pair with the pair in every position, tail included.
        var runs = new List<(NDArray A, NDArray B)>
        {
            (Fill(dtype, pairs + 5, i => s[i % pairs / s.Length]), Fill(dtype, pairs + 5, i => s[i % pairs % s.Length])),
        };
        foreach (var x in s)
            foreach (var y in s) runs.Add((Fill(dtype, Length, _ => x), Fill(dtype, Length, _ => y)));

        var labels = new Graph();
        var names = Table(labels.Placeholder(dtype, [1], "a"), labels.Placeholder(dtype, [1], "b")).Names;
        foreach (var length in new[] { pairs + 5, Length })
        {
            var owned = new List<IDisposable>();
            var reference = Backend("interpreter", dtype, length, owned);
            var actual = Backend(backend, dtype, length, owned);
            foreach (var (av, bv) in runs.Where(r => r.A.Size == length))
            {
                var expected = reference(av, bv);
                var got = actual(av, bv);
                for (int f = 0; f < expected.Length; f++)
                    for (int i = 0; i < length; i++)
                        if (!Numerics.Agree(expected[f].GetDouble(i), got[f].GetDouble(i)))
                            Assert.Fail($"{backend} {dtype.ShortName()}: {names[f]}({av.GetDouble(i):R}, {bv.GetDouble(i):R}) " +
                                $"at element {i} of {length}: " +
                                $"interpreter {expected[f].GetDouble(i):R}, {backend} {got[f].GetDouble(i):R}");
            }
            owned.ForEach(o => o.Dispose());
        }
    }
}
