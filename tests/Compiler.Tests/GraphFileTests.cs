using GraphNet.Bench;

namespace GraphNet.Compiler.Tests;

public class GraphFileTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("graphnet-graphfile-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    [Fact]
    public void TheCnnTrainingGraphRoundTripsWithItsInitializersAndRunsTheSame()
    {
        var m = BenchModel.Cnn();
        var path = Path.Combine(dir, "cnn.graph.json");
        m.Graph.Save(path);
        var loaded = Graph.Load(path);
        Assert.Equal(m.Graph.ToText(withSource: true), loaded.ToText(withSource: true));
        Assert.Equal(m.Graph.Seed, loaded.Seed);

        Tensor Find(Graph g, Tensor t) => g.Nodes.Single(n => n.Id == t.Node.Id).Outputs[t.Index];
        using var a = new Session(m.Graph, new SessionOptions { UseCompileCache = false });
        using var b = new Session(loaded, new SessionOptions { UseCompileCache = false });
        for (int i = 0; i < 2; i++)
        {
            var feeds = m.Batch(4, i);
            double la = a.Run([m.Loss, m.TrainStep], feeds)[0].Item();
            double lb = b.Run([Find(loaded, m.Loss), Find(loaded, m.TrainStep)],
                feeds.ToDictionary(kv => Find(loaded, kv.Key), kv => kv.Value))[0].Item();
            Assert.Equal(la, lb); // same initial weights (initializers kept), same dropout seeds, same ops
        }
        Assert.True(loaded.HasTrainingSwitch);
        Assert.Contains(loaded.Nodes, n => n.IsBackward);
    }

    [Fact]
    public void NewerOrMalformedFilesGetClearErrors()
    {
        var g = new Graph();
        F.Exp(g.Placeholder([2], "x"));
        var path = Path.Combine(dir, "g.json");
        g.Save(path);
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"version\": 1", "\"version\": 7"));
        Assert.Contains("newer GraphNet (graph file version 7", Assert.Throws<InvalidDataException>(() => Graph.Load(path)).Message);
        File.WriteAllText(path, "{\"format\": \"graphnet-graph\", \"version\": 1, \"nodes\": [{\"id\": 0, \"op\": \"FooOp\"}]}");
        Assert.Contains("unknown op 'FooOp'", Assert.Throws<InvalidDataException>(() => Graph.Load(path)).Message);
        File.WriteAllText(path, "{\"format\": \"graphnet-graph\", \"version\": 1, \"nodes\": [");
        Assert.Contains("malformed JSON", Assert.Throws<InvalidDataException>(() => Graph.Load(path)).Message);
        File.WriteAllText(path, "{\"format\": \"graphnet-graph\", \"version\": 1, \"nodes\": [{\"id\": 1, \"op\": \"UnaryOp\", \"name\": \"e\", \"inputs\": [[0, 0]], \"attrs\": {\"Fn\": \"exp\", \"Param\": 0}}]}");
        Assert.Contains("reads node 0, which is not defined before it", Assert.Throws<InvalidDataException>(() => Graph.Load(path)).Message);
    }
}
