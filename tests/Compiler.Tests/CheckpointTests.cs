using System.Diagnostics;
using System.Text;
using GraphNet.Bench;
using GraphNet.Runtime;

namespace GraphNet.Compiler.Tests;

public class CheckpointTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("graphnet-ckpt-").FullName;
    public void Dispose() => Directory.Delete(dir, true);
    private string P(string name) => Path.Combine(dir, name);

    [Fact]
    public void SaveAndRestoreRoundTripWeightsAndOptimizerSlotsAndTrainingContinuesIdentically()
    {
        var a = BenchModel.Mlp();
        using var sa = new Session(a.Graph, new SessionOptions { UseCompileCache = false });
        for (int i = 0; i < 3; i++) sa.Run([a.Loss, a.TrainStep], a.Batch(8, i));
        Saver.Save(sa, P("mlp.safetensors"));

        var b = BenchModel.Mlp();
        using var sb = new Session(b.Graph, new SessionOptions { UseCompileCache = false });
        Saver.Restore(sb, P("mlp.safetensors"));
        Assert.Equal(sa.GetVariable("fc1.weight.exp_avg").As<float>(), sb.GetVariable("fc1.weight.exp_avg").As<float>());
        Assert.Equal(sa.GetVariable("adam.step").Item(), sb.GetVariable("adam.step").Item());
        // The restored run continues exactly where the saved one was.
        var next = a.Batch(8, 3);
        double la = sa.Run([a.Loss, a.TrainStep], next)[0].Item();
        double lb = sb.Run([b.Loss, b.TrainStep], b.Batch(8, 3))[0].Item();
        Assert.Equal(la, lb);
        // The names are PyTorch's, readable by any safetensors reader.
        var (tensors, meta) = SafeTensors.Read(P("mlp.safetensors"));
        Assert.Contains("fc1.weight", tensors.Keys);
        Assert.Equal(new[] { 512, 784 }, tensors["fc1.weight"].Shape);
        Assert.Equal("pt", meta["format"]);
    }

    [Fact]
    public void RestoringAMismatchedCheckpointListsEveryMismatchAndChangesNothing()
    {
        var g = new Graph();
        g.Variable("a", [2], Initializer.Zeros);
        g.Variable("b", [3], Initializer.Zeros);
        g.Variable("c", [1], Initializer.Zeros, DType.Float64);
        using var s = new Session(g);
        SafeTensors.Write(P("bad.safetensors"), new Dictionary<string, NDArray>
        {
            ["a"] = NDArray.From(new float[] { 1, 2 }, 2),          // fine
            ["b"] = NDArray.From(new float[] { 1, 2 }, 2),          // wrong shape
            ["c"] = NDArray.From(new float[] { 1 }, 1),             // wrong dtype
            ["d"] = NDArray.From(new float[] { 1 }, 1),             // not in the graph
        });
        var e = Assert.Throws<GraphException>(() => Saver.Restore(s, P("bad.safetensors")));
        Assert.Contains("3 problems", e.Message);
        Assert.Contains("'b' has shape [2] in the file but [3] in the graph", e.Message);
        Assert.Contains("'c' is f32 in the file but f64 in the graph", e.Message);
        Assert.Contains("'d' is in the file but not in the graph", e.Message);
        Assert.Equal(new[] { 0f, 0f }, s.GetVariable("a").As<float>()); // nothing was half-restored
    }

    public static TheoryData<string, string> Hostile => new()
    {
        { "short", "shorter than the 8-byte header length" },
        { "huge-length", "the header claims" },
        { "bad-json", "not valid JSON" },
        { "overlap", "overlaps another entry" },
        { "outside", "outside the" },
        { "bad-dtype", "unsupported or missing dtype" },
        { "size-mismatch", "needs 8 bytes" },
        { "truncated-data", "outside the" },
        // Issue 18: these escaped as InvalidOperationException, OverflowException and ArgumentException.
        { "fractional-dim", "no valid shape" },
        { "huge-offset", "no valid data_offsets" },
        { "huge-dims", "needs" },
        { "duplicate-key", "" },
    };

    [Theory, MemberData(nameof(Hostile))]
    public void CorruptTruncatedAndHostileFilesGetClearErrors(string kind, string expected)
    {
        byte[] File(string header, int dataBytes, ulong? lengthOverride = null)
        {
            var h = Encoding.UTF8.GetBytes(header);
            var bytes = new byte[8 + h.Length + dataBytes];
            BitConverter.GetBytes(lengthOverride ?? (ulong)h.Length).CopyTo(bytes, 0);
            h.CopyTo(bytes, 8);
            return bytes;
        }
        var content = kind switch
        {
            "short" => new byte[] { 1, 2, 3 },
            "huge-length" => File("{}", 0, ulong.MaxValue / 2),
            "bad-json" => File("{\"a\": [1,", 0),
            "overlap" => File("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12),
            "outside" => File("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4),
            "bad-dtype" => File("{\"a\":{\"dtype\":\"Q9\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8),
            "size-mismatch" => File("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,12]}}", 12),
            "fractional-dim" => File("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4),
            "huge-offset" => File("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,1e30]}}", 4),
            "huge-dims" => File("{\"a\":{\"dtype\":\"F32\"," +
                "\"shape\":[2147483647,2147483647,2147483647,2147483647],\"data_offsets\":[0,4]}}", 4),
            "duplicate-key" => File("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}," +
                "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
            _ => File("{\"a\":{\"dtype\":\"F32\",\"shape\":[1000000],\"data_offsets\":[0,4000000]}}", 16),
        };
        System.IO.File.WriteAllBytes(P(kind), content);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Read(P(kind)));
        Assert.Contains(expected, e.Message);
        Assert.Contains(P(kind), e.Message);
    }

    [Fact]
    public void ASaveKilledMidwayLeavesThePreviousFileIntact()
    {
        var path = P("model.safetensors");
        SafeTensors.Write(path, new Dictionary<string, NDArray> { ["old"] = NDArray.From(new float[] { 42 }, 1) });
        var bench = typeof(BenchModel).Assembly.Location;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            using var child = Process.Start(new ProcessStartInfo("dotnet", [bench, "checkpoint-writer", path, "64"])
            { RedirectStandardOutput = true, UseShellExecute = false })!;
            // Kill it while it is writing: after its first full save, at a varying point in the next one.
            child.StandardOutput.ReadLine();
            Thread.Sleep(15 + 40 * attempt);
            child.Kill(entireProcessTree: true);
            child.WaitForExit();
            var (tensors, _) = SafeTensors.Read(path); // a whole file, old or new, never a torn one
            Assert.True(tensors.ContainsKey("big.weight") || tensors.ContainsKey("old"));
            if (tensors.TryGetValue("big.weight", out var big))
            {
                var v = big.As<float>();
                Assert.Equal(64 * 262144, v.Length);
                Assert.All(new[] { v[0], v[v.Length / 2], v[^1] }, x => Assert.Equal(v[0], x));
            }
        }
    }
}
