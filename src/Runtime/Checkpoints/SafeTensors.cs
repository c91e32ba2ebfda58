using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace GraphNet.Runtime;

/// <summary>
/// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
/// mapping names to {dtype, shape, data_offsets}, then the raw little-endian data. Reading
/// checks everything before allocating: lengths, JSON, dtypes, shapes and offsets that must
/// tile the data exactly.
/// </summary>
public static class SafeTensors
{
    /// <summary>Headers larger than this are refused (real ones are kilobytes).</summary>
    public const long MaxHeaderBytes = 100L << 20;

    private static string Code(DType t) => t switch
    {
        DType.Float32 => "F32", DType.Float64 => "F64", DType.Int32 => "I32", DType.Int64 => "I64", DType.Bool => "BOOL",
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    private static DType? FromCode(string? code) => code switch
    {
        "F32" => DType.Float32, "F64" => DType.Float64, "I32" => DType.Int32, "I64" => DType.Int64, "BOOL" => DType.Bool, _ => null,
    };

    /// <summary>Writes tensors (sorted by name) atomically: a temp file flushed to disk, then a rename.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, NDArray> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToList();
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        long offset = 0;
        foreach (var name in names)
        {
            var t = tensors[name];
            long bytes = (long)t.Size * t.DType.SizeInBytes();
            header[name] = new JsonObject
            {
                ["dtype"] = Code(t.DType),
                ["shape"] = new JsonArray(t.Shape.Select(d => (JsonNode)JsonValue.Create(d)!).ToArray()),
                ["data_offsets"] = new JsonArray(JsonValue.Create(offset), JsonValue.Create(offset + bytes)),
            };
            offset += bytes;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        // Pad the header with spaces to 8 bytes, as the reference writer does.
        int pad = (8 - json.Length % 8) % 8;
        // Whole or not at all: a failed save leaves the old checkpoint as it was.
        AtomicFile.Write(path, f =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)(json.Length + pad));
            f.Write(len);
            f.Write(json);
            for (int i = 0; i < pad; i++) f.WriteByte((byte)' ');
            foreach (var name in names) f.Write(tensors[name].AsBytes());
        });
    }


    /// <summary>Reads a safetensors file, with a clear error for anything truncated, corrupt or hostile.</summary>
    public static (Dictionary<string, NDArray> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        string Bad(string why) => $"'{path}' is not a valid safetensors checkpoint: {why}";
        using var f = File.OpenRead(path);
        long fileLength = f.Length;
        if (fileLength < 8) throw new InvalidDataException(Bad($"only {fileLength} bytes, shorter than the 8-byte header length"));
        Span<byte> len = stackalloc byte[8];
        f.ReadExactly(len);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(len);
        if (headerLength > (ulong)MaxHeaderBytes || headerLength > (ulong)(fileLength - 8))
            throw new InvalidDataException(Bad($"the header claims {headerLength:N0} bytes but the file has {fileLength - 8:N0} after the length (truncated or corrupt)"));
        var headerBytes = new byte[headerLength];
        f.ReadExactly(headerBytes);
        long dataLength = fileLength - 8 - (long)headerLength;
        var metadata = new Dictionary<string, string>();
        var entries = new List<(string Name, DType DType, int[] Shape, long Begin, long End)>();
        try { ReadHeader(headerBytes, dataLength, Bad, metadata, entries); }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException or FormatException or OverflowException)
        {
            // A duplicate key, a value of the wrong kind: whatever the JSON reader objects to is a bad header.
            throw new InvalidDataException(Bad($"the header is malformed ({e.Message})"), e);
        }
        // The entries must tile the data exactly: no overlaps, no gaps.
        long expect = 0;
        foreach (var e in entries.OrderBy(e => e.Begin))
        {
            if (e.Begin != expect) throw new InvalidDataException(Bad(e.Begin < expect ? $"entry '{e.Name}' overlaps another entry's data" : $"a gap of {e.Begin - expect} bytes before entry '{e.Name}'"));
            expect = e.End;
        }
        if (expect != dataLength) throw new InvalidDataException(Bad($"{dataLength - expect} bytes of data belong to no entry"));

        long dataStart = 8 + (long)headerLength;
        var tensors = new Dictionary<string, NDArray>();
        foreach (var e in entries)
        {
            var t = NDArray.Zeros(e.DType, e.Shape);
            f.Position = dataStart + e.Begin;
            var span = t.AsBytes();
            f.ReadExactly(span);
            if (t.Data is bool[] b && span.IndexOfAnyExcept((byte)0, (byte)1) >= 0) throw new InvalidDataException(Bad($"entry '{e.Name}' holds bool bytes other than 0 and 1"));
            tensors[e.Name] = t;
        }
        return (tensors, metadata);
    }

    private static void ReadHeader(byte[] headerBytes, long dataLength, Func<string, string> bad, Dictionary<string, string> metadata,
        List<(string Name, DType DType, int[] Shape, long Begin, long End)> entries)
    {
        JsonObject header;
        try { header = JsonNode.Parse(headerBytes) as JsonObject ?? throw new InvalidDataException(bad("the header is not a JSON object")); }
        catch (JsonException e) { throw new InvalidDataException(bad($"the header is not valid JSON ({e.Message})"), e); }
        var names = new HashSet<string>();
        foreach (var (name, node) in header)
        {
            if (!names.Add(name)) throw new InvalidDataException(bad($"entry '{name}' appears twice"));
            if (name == "__metadata__")
            {
                if (node is JsonObject meta) foreach (var (k, v) in meta) metadata[k] = v?.ToString() ?? "";
                continue;
            }
            if (node is not JsonObject o) throw new InvalidDataException(bad($"entry '{name}' is not an object"));
            var dtype = FromCode(o["dtype"]?.GetValueKind() == JsonValueKind.String ? (string?)o["dtype"] : null)
                ?? throw new InvalidDataException(
                    bad($"entry '{name}' has an unsupported or missing dtype '{o["dtype"]}' (F32, F64, I32, I64, BOOL)"));
            if (o["shape"] is not JsonArray shapeArray || !Integers(shapeArray, out var shape))
                throw new InvalidDataException(
                    bad($"entry '{name}' has no valid shape (a list of whole numbers): {o["shape"]?.ToJsonString()}"));
            if (shape.Any(d => d < 0 || d > int.MaxValue))
                throw new InvalidDataException(bad($"entry '{name}' has an impossible shape [{string.Join(",", shape)}]"));
            if (o["data_offsets"] is not JsonArray off || off.Count != 2 || !Integers(off, out var offsets))
                throw new InvalidDataException(
                    bad($"entry '{name}' has no valid data_offsets (two whole numbers): {o["data_offsets"]?.ToJsonString()}"));
            long begin = offsets[0], end = offsets[1];
            if (begin < 0 || end < begin || end > dataLength)
                throw new InvalidDataException(bad($"entry '{name}' has offsets [{begin}, {end}) outside the {dataLength:N0} data bytes"));
            // The element count can pass any integer type (four dims of 2^31 - 1); past the data's size it is wrong anyway.
            decimal elements = 1;
            foreach (var d in shape) elements = Math.Min(elements * d, (decimal)long.MaxValue);
            if (elements * dtype.SizeInBytes() != end - begin)
                throw new InvalidDataException(bad($"entry '{name}': shape [{string.Join(",", shape)}] of {dtype.ShortName()} " +
                    $"needs {elements * dtype.SizeInBytes()} bytes, offsets give {end - begin}"));
            entries.Add((name, dtype, shape.Select(d => (int)d).ToArray(), begin, end));
        }
    }

    /// <summary>Every element a whole number that fits a long (1.5 and 1e30 do not).</summary>
    private static bool Integers(JsonArray array, out long[] values)
    {
        values = new long[array.Count];
        for (int i = 0; i < values.Length; i++)
            if (array[i] is not JsonValue v || v.GetValueKind() != JsonValueKind.Number || !v.TryGetValue(out values[i])) return false;
        return true;
    }
}
