using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace GraphNet;

/// <summary>
/// Whole graphs as versioned JSON (the role of TensorFlow's GraphDef): every node with its op
/// and attributes, variables with their initializers, constants with their data, names, source
/// lines and backward links. Ops are written from their record properties and rebuilt through
/// their constructors, so a new op needs no code here.
/// </summary>
public static class GraphFile
{
    public const string Format = "graphnet-graph";
    public const int Version = 1;

    private static readonly Dictionary<string, Type> OpTypes = typeof(Op).Assembly.GetTypes()
        .Where(t => t.IsSubclassOf(typeof(Op)) && !t.IsAbstract).ToDictionary(t => t.Name);
    private static readonly Dictionary<string, Type> InitTypes = typeof(Initializer).Assembly.GetTypes()
        .Where(t => t.IsSubclassOf(typeof(Initializer)) && !t.IsAbstract).ToDictionary(t => t.Name);

    public static void Save(Graph g, string path)
    {
        if (g.Nodes.FirstOrDefault(n => n.Op is ScanOp) is { } scan)
            throw new NotSupportedException($"graph files cannot store scans yet ({scan.Describe()}); " +
                "save the variables with a checkpoint and build the graph again from code");
        var nodes = new JsonArray();
        foreach (var n in g.Nodes)
            nodes.Add(new JsonObject
            {
                ["id"] = n.Id, ["op"] = n.Op.GetType().Name, ["name"] = n.Name,
                ["inputs"] = new JsonArray(n.Inputs.Select(i => (JsonNode)new JsonArray(i.Node.Id, i.Index)).ToArray()),
                ["attrs"] = Record(n.Op),
                ["source"] = new JsonObject { ["file"] = n.Source.File, ["line"] = n.Source.Line },
                ["forwardOf"] = n.ForwardOf is { } f && f.Graph == g ? f.Id : null,
            });
        var doc = new JsonObject { ["format"] = Format, ["version"] = Version, ["name"] = g.Name, ["seed"] = g.Seed, ["nodes"] = nodes };
        AtomicFile.WriteAllText(path, doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    public static Graph Load(string path)
    {
        string Bad(string why) => $"'{path}' is not a valid GraphNet graph file: {why}";
        JsonObject doc;
        try { doc = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException(Bad("not a JSON object")); }
        catch (JsonException e) { throw new InvalidDataException(Bad($"malformed JSON ({e.Message})"), e); }
        if ((string?)doc["format"] != Format) throw new InvalidDataException(Bad($"its format is '{doc["format"]}', not '{Format}'"));
        int version = (int?)doc["version"] ?? throw new InvalidDataException(Bad("no version"));
        if (version > Version) throw new InvalidDataException($"'{path}' was written by a newer GraphNet (graph file version {version}; this one reads up to {Version}); upgrade GraphNet to load it");
        var g = new Graph((int?)doc["seed"] ?? 0) { Name = (string?)doc["name"] ?? "graph" };
        var byId = new Dictionary<int, Node>();
        try
        {
            foreach (var item in doc["nodes"]?.AsArray() ?? throw new InvalidDataException(Bad("no nodes")))
            {
                var o = item!.AsObject();
                int id = (int)o["id"]!;
                string opName = (string)o["op"]!;
                if (!OpTypes.TryGetValue(opName, out var type)) throw new InvalidDataException(Bad($"node {id} has an unknown op '{opName}'"));
                var op = (Op)Construct(type, o["attrs"]!.AsObject());
                var inputs = o["inputs"]!.AsArray().Select(i =>
                {
                    int src = (int)i![0]!, index = (int)i[1]!;
                    return byId.TryGetValue(src, out var s) ? s.Outputs[index] : throw new InvalidDataException(Bad($"node {id} reads node {src}, which is not defined before it"));
                }).ToArray();
                var source = new SourceLocation((string?)o["source"]?["file"] ?? "?", (int?)o["source"]?["line"] ?? 0);
                Node? forward = o["forwardOf"] is { } fo && byId.TryGetValue((int)fo, out var fn) ? fn : null;
                byId[id] = g.AddLoaded(op, inputs, (string)o["name"]!, source, forward);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException or ArgumentException or TargetInvocationException or JsonException)
        {
            throw new InvalidDataException(Bad($"{(e as TargetInvocationException)?.InnerException?.Message ?? e.Message}"), e);
        }
        return g;
    }

    // ---- values to JSON and back, by type ----

    private static JsonObject Record(object record)
    {
        var o = new JsonObject();
        foreach (var p in PrimaryParameters(record.GetType()))
            o[p.Name!] = ToJson(record.GetType().GetProperty(p.Name!, BindingFlags.Public | BindingFlags.Instance)!.GetValue(record));
        return o;
    }

    private static object Construct(Type type, JsonObject attrs)
    {
        var ctor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
        var args = ctor.GetParameters().Select(p => attrs.ContainsKey(p.Name!) ? FromJson(attrs[p.Name!], p.ParameterType)
            : p.HasDefaultValue ? p.DefaultValue : throw new InvalidDataException($"{type.Name} needs '{p.Name}'")).ToArray();
        return ctor.Invoke(args);
    }

    private static ParameterInfo[] PrimaryParameters(Type t) => t.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First().GetParameters();

    private static JsonNode? ToJson(object? v) => v switch
    {
        null => null,
        bool b => b, int i => i, long l => l, double d => d, float f => f, string s => s,
        int[] a => new JsonArray(a.Select(x => (JsonNode)x).ToArray()),
        Enum e => e.ToString(),
        UnaryFn u => u.Name, BinaryFn b2 => b2.Name,
        Shape s => new JsonArray(s.Dims.Select(x => (JsonNode)x).ToArray()),
        TensorType t => new JsonObject { ["dtype"] = t.DType.ToString(), ["shape"] = ToJson(t.Shape) },
        NDArray a => new JsonObject { ["dtype"] = a.DType.ToString(), ["shape"] = ToJson(a.Shape), ["data"] = Convert.ToBase64String(a.AsBytes()) },
        Initializer init => new JsonObject { ["type"] = init.GetType().Name, ["attrs"] = Record(init) },
        ConvParams or PoolParams => Record(v),
        _ => throw new NotSupportedException($"graph files cannot store a {v.GetType().Name}"),
    };

    private static object? FromJson(JsonNode? n, Type t)
    {
        if (n is null) return null;
        if (t == typeof(bool)) return (bool)n;
        if (t == typeof(int)) return (int)n;
        if (t == typeof(double)) return (double)n;
        if (t == typeof(string)) return (string)n!;
        if (t == typeof(int[])) return n.AsArray().Select(x => (int)x!).ToArray();
        if (t.IsEnum) return Enum.Parse(t, (string)n!);
        if (t == typeof(UnaryFn)) return Pointwise.Unary.SingleOrDefault(f => f.Name == (string)n!) ?? throw new InvalidDataException($"unknown unary function '{n}'");
        if (t == typeof(BinaryFn)) return Pointwise.Binary.SingleOrDefault(f => f.Name == (string)n!) ?? throw new InvalidDataException($"unknown binary function '{n}'");
        if (t == typeof(Shape)) return new Shape(n.AsArray().Select(x => (int)x!).ToArray());
        if (t == typeof(TensorType)) return new TensorType(Enum.Parse<DType>((string)n["dtype"]!), (Shape)FromJson(n["shape"], typeof(Shape))!);
        if (t == typeof(NDArray))
        {
            var dtype = Enum.Parse<DType>((string)n["dtype"]!);
            var shape = n["shape"]!.AsArray().Select(x => (int)x!).ToArray();
            var a = NDArray.Zeros(dtype, shape);
            var bytes = Convert.FromBase64String((string)n["data"]!);
            if (bytes.Length != a.Size * dtype.SizeInBytes()) throw new InvalidDataException($"a {dtype} [{string.Join(",", shape)}] value holds {bytes.Length} bytes");
            bytes.CopyTo(a.AsBytes());
            return a;
        }
        if (t == typeof(Initializer))
        {
            var name = (string)n["type"]!;
            return InitTypes.TryGetValue(name, out var it) ? Construct(it, n["attrs"]!.AsObject()) : throw new InvalidDataException($"unknown initializer '{name}'");
        }
        if (t == typeof(ConvParams) || t == typeof(PoolParams)) return Construct(t, n.AsObject());
        throw new NotSupportedException($"graph files cannot read a {t.Name}");
    }
}
