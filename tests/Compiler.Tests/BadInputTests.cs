using GraphNet.Runtime.Devices;
using GraphNet.Runtime;
using GraphNet.Runtime.Data;

namespace GraphNet.Compiler.Tests;

/// <summary>
/// The table of bad inputs (also in the README): each case and the message a user gets.
/// Messages name what was wrong and where: op, node, shapes, the user's line.
/// </summary>
public class BadInputTests
{
    private static Dictionary<Tensor, NDArray> Feed(params (Tensor, NDArray)[] f) => f.ToDictionary(p => p.Item1, p => p.Item2);

    [Fact]
    public void ShapeMismatchAtBuildTime()
    {
        var g = new Graph();
        var x = g.Placeholder([-1, 784], "x");
        var w = g.Variable("w", [128, 100], Initializer.Zeros);
        var e = Assert.Throws<GraphException>(() => F.MatMul(x, w, transB: true));
        Assert.Contains("matmul: inner dimensions differ", e.Message);
        Assert.Contains("'x' f32[N,784]", e.Message);
        Assert.Contains("'w' f32[128,100]", e.Message);
        Assert.Contains("BadInputTests.cs:", e.Message);
    }

    /// <summary>A session on one of the backends (ILGPU on the test accelerator), without the compile cache.</summary>
    private static Session Open(Graph g, string backend, bool checkNumerics = false) => new(g, new SessionOptions
    {
        Backend = Backend.Named(backend), CheckNumerics = checkNumerics, UseCompileCache = false, Accelerator = BackendParity.Ilgpu.Accelerator,
    });

    [Theory]
    [InlineData("csharp"), InlineData("interpreter"), InlineData("ilgpu")]
    public void MissingExtraWrongShapeAndWrongDtypeFeeds(string backend)
    {
        var g = new Graph();
        var x = g.Placeholder([-1, 3], "x");
        var unused = g.Placeholder([2], "unused");
        var y = F.Sum(F.Relu(x));
        using var s = Open(g, backend);
        Assert.Contains("placeholder 'x' (f32[N,3], made at BadInputTests.cs:", Assert.Throws<GraphException>(() => s.Run(y)).Message);
        Assert.Contains("feed 'unused' is not used by the fetches", Assert.Throws<GraphException>(() =>
            s.Run(y, Feed((x, NDArray.Zeros(DType.Float32, 1, 3)), (unused, NDArray.Zeros(DType.Float32, 2))))).Message);
        Assert.Contains("feed for 'x' has shape [1,4] but the placeholder is f32[N,3]", Assert.Throws<GraphException>(() =>
            s.Run(y, Feed((x, NDArray.Zeros(DType.Float32, 1, 4))))).Message);
        Assert.Contains("feed for 'x' has dtype f64 but the placeholder is f32[N,3]", Assert.Throws<GraphException>(() =>
            s.Run(y, Feed((x, NDArray.Zeros(DType.Float64, 1, 3))))).Message);
    }

    [Fact]
    public void AnAbsentAcceleratorIsNamedWithThoseThatArePresent()
    {
        var present = Devices.Present();
        Assert.Contains(present, p => p.StartsWith("cpu")); // ILGPU's CPU accelerator is always there
        foreach (var kind in new[] { AcceleratorKind.Cuda, AcceleratorKind.OpenCL })
        {
            var g = new Graph();
            g.Variable("w", [2], Initializer.Ones);
            var options = new SessionOptions { Backend = Backend.Ilgpu, Accelerator = kind };
            if (present.Any(p => p.StartsWith(kind.ToString().ToLowerInvariant())))
            {
                // On a machine that has it, the same request opens a session instead.
                using var session = new Session(g, options);
                continue;
            }
            var e = Assert.Throws<GraphException>(() => new Session(g, options));
            Assert.Contains($"the ILGPU accelerator '{kind.ToString().ToLowerInvariant()}' is not present on this machine; present: ", e.Message);
            Assert.Contains("cpu (", e.Message);
            Assert.Contains("SessionOptions.Accelerator", e.Message);
        }
    }

    [Fact]
    public void FetchesFromAnotherGraph()
    {
        using var s = new Session(new Graph());
        var other = F.Exp(new Graph().Placeholder([1], "p"));
        Assert.Contains("belongs to another Graph than this session's", Assert.Throws<GraphException>(() => s.Run(other)).Message);
    }

    [Fact]
    public void AnUninitializedVariable()
    {
        var g = new Graph();
        using var s = new Session(g);
        var late = g.Variable("late.weight", [2], Initializer.Ones);
        var e = Assert.Throws<GraphException>(() => s.Run(late * 2.0));
        Assert.Contains("variable 'late.weight'", e.Message);
        Assert.Contains("session.InitializeVariables()", e.Message);
    }

    [Theory]
    [InlineData("csharp"), InlineData("interpreter"), InlineData("ilgpu")]
    public void NaNDuringAStepWithCheckNumericsNamesTheFirstNodeAndItsLine(string backend)
    {
        var g = new Graph();
        var x = g.Placeholder([-1, 2], "x");
        var w = g.Variable("w", [2], Initializer.Constant(1));
        var h = x * w;
        var bad = F.Log(h);                   // the first node to make NaN (log of a negative number)
        var loss = F.Sum(F.Exp(bad) * 2.0);
        using var s = Open(g, backend, checkNumerics: true);
        var e = Assert.Throws<GraphException>(() => s.Run(loss, Feed((x, NDArray.From(new float[] { 1, -1 }, 1, 2)))));
        Assert.Contains("CheckNumerics", e.Message);
        Assert.Contains($"log '{bad.Name}'", e.Message);
        Assert.Contains("BadInputTests.cs:", e.Message);
        Assert.DoesNotContain("exp '", e.Message);
        // Without NaN the same session runs.
        Assert.True(double.IsFinite(s.Run(loss, Feed((x, NDArray.From(new float[] { 1, 2 }, 1, 2)))).Item()));
    }

    [Theory]
    [InlineData("csharp"), InlineData("ilgpu")]
    public void NaNInAPieceStoredStraightIntoAConcatenationIsCaught(string backend)
    {
        var g = new Graph();
        var x = g.Placeholder([-1, 2], "x");
        var bad = F.Log(x);                   // a piece of the concatenation below, stored in place by its loop
        var joined = F.Concat([bad, F.Exp(x) * 3.0], 1);
        var loss = F.Sum(joined * 2.0);
        using var s = Open(g, backend, checkNumerics: true);
        var exe = s.Compiled([loss], Feed((x, NDArray.Zeros(DType.Float32, 1, 2))));
        Assert.Single(exe.Report.Fusion.ConcatViews);
        var e = Assert.Throws<GraphException>(() => s.Run(loss, Feed((x, NDArray.From(new float[] { 1, -1 }, 1, 2)))));
        Assert.Contains("CheckNumerics", e.Message);
        Assert.Contains($"log '{bad.Name}'", e.Message);
        Assert.True(double.IsFinite(s.Run(loss, Feed((x, NDArray.From(new float[] { 1, 2 }, 1, 2)))).Item()));
    }

    [Fact]
    public void ACorruptDatasetFile()
    {
        var dir = Directory.CreateTempSubdirectory("graphnet-bad-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(dir, "train-images-idx3-ubyte"), [0, 0, 8, 3, 0, 0, 0, 9, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3]);
            File.WriteAllBytes(Path.Combine(dir, "train-labels-idx1-ubyte"), [0, 0, 8, 1, 0, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
            var e = Assert.Throws<InvalidDataException>(() => Mnist.Load(dir, train: true, mean: 0, std: 1));
            Assert.Contains("train-images-idx3-ubyte' is truncated: header says [9,28,28] = 7056 bytes of data, file has 3", e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ACorruptCheckpoint()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, [16, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'"', (byte)'a']);
            var g = new Graph();
            g.Variable("a", [1], Initializer.Zeros);
            using var s = new Session(g);
            var e = Assert.Throws<InvalidDataException>(() => Saver.Restore(s, path));
            Assert.Contains("is not a valid safetensors checkpoint", e.Message);
            Assert.Contains("truncated or corrupt", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void ACorruptCompileCacheEntryIsRebuiltNotLoaded()
    {
        var dir = Directory.CreateTempSubdirectory("graphnet-badcache-").FullName;
        try
        {
            var g = new Graph();
            var x = g.Placeholder([-1, 2], "x");
            var y = F.Relu(x) * 3.0;
            var feeds = Feed((x, NDArray.From(new float[] { -1, 2 }, 1, 2)));
            using (var s = new Session(g, new SessionOptions { CacheDirectory = dir })) s.Run(y, feeds);
            foreach (var f in Directory.GetFiles(dir, "*.dll")) File.WriteAllText(f, "not an assembly");
            using var s2 = new Session(g, new SessionOptions { CacheDirectory = dir });
            Assert.Equal(new[] { 0f, 6f }, s2.Run(y, feeds).As<float>());
            Assert.StartsWith("corrupt", s2.Compiled([y], feeds).Report.Cache);
        }
        finally { Directory.Delete(dir, true); }
    }
}
