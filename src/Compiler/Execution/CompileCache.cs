using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Security.Cryptography;

namespace GraphNet.Compiler;

/// <summary>
/// Compiled assemblies on disk, keyed by a content hash. The key and the compiler version are
/// stored in the assembly's metadata and checked with System.Reflection.Metadata before an
/// entry is used; a corrupt, truncated or stale entry is reported as a miss and rebuilt. Beside
/// them, plans (what the stages made of a graph, see <see cref="PlanFile"/>) keyed by the graph
/// before the passes, so that a hit skips the whole compiler. Every entry ends with the SHA-256
/// of its content, checked before use.
/// </summary>
public sealed class CompileCache(string directory, long maxBytes = CompileCache.DefaultMaxBytes)
{
    /// <summary>The cache keeps at most this many bytes; the least recently used entries go first.</summary>
    public const long DefaultMaxBytes = 256L << 20;
    public long MaxBytes { get; } = maxBytes;

    public const string KeyAttribute = "GraphNet.CacheKey", VersionAttribute = "GraphNet.CompilerVersion";

    public string Directory { get; } = directory;

    /// <summary>~/.cache/graphnet, or $GRAPHNET_CACHE_DIR.</summary>
    public static CompileCache Default() => new(Environment.GetEnvironmentVariable("GRAPHNET_CACHE_DIR") is { Length: > 0 } d ? d
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "graphnet"));

    private string PathOf(string key) => Path.Combine(Directory, key + ".dll");

    /// <summary>The entry's bytes, or null with the reason it is a miss.</summary>
    public byte[]? TryLoad(string key, string version, out string missReason)
    {
        var path = PathOf(key);
        var bytes = Read(path, "entry", out missReason);
        if (bytes is null) return null;
        missReason = Validate(bytes, key, version) ?? "";
        if (missReason.Length > 0) return null;
        Touch(path);
        return bytes;
    }

    /// <summary>A file's content with its SHA-256 checked and taken off, or null with the reason (a miss).</summary>
    private static byte[]? Read(string path, string what, out string missReason)
    {
        missReason = "";
        try
        {
            if (!File.Exists(path)) { missReason = $"no {what}"; return null; }
            if (Unsealed(File.ReadAllBytes(path)) is { } content) return content;
            missReason = $"corrupt {what} (its content hash does not match: a changed or missing byte)";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            missReason = $"unreadable {what} ({e.Message})";
        }
        return null;
    }

    /// <summary>Marks an entry recently used, for eviction.</summary>
    private static void Touch(string path)
    {
        try { File.SetLastWriteTimeUtc(path, DateTime.UtcNow); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>Null when the image is a readable assembly carrying this key and version, else why not.</summary>
    public static string? Validate(byte[] bytes, string key, string version)
    {
        try
        {
            using var pe = new PEReader(new MemoryStream(bytes));
            if (!pe.HasMetadata) return "corrupt entry (no metadata)";
            var md = pe.GetMetadataReader();
            var found = new Dictionary<string, string>();
            foreach (var h in md.GetAssemblyDefinition().GetCustomAttributes())
            {
                var attr = md.GetCustomAttribute(h);
                if (attr.Constructor.Kind != HandleKind.MemberReference) continue;
                var ctor = md.GetMemberReference((MemberReferenceHandle)attr.Constructor);
                if (ctor.Parent.Kind != HandleKind.TypeReference || md.GetString(md.GetTypeReference((TypeReferenceHandle)ctor.Parent).Name) != "AssemblyMetadataAttribute") continue;
                var blob = md.GetBlobReader(attr.Value);
                if (blob.ReadUInt16() != 1) return "corrupt entry (bad attribute blob)";
                var k = blob.ReadSerializedString(); var v = blob.ReadSerializedString();
                if (k is not null && v is not null) found[k] = v;
            }
            if (!found.TryGetValue(KeyAttribute, out var storedKey)) return "corrupt entry (no cache key in its metadata)";
            if (storedKey != key) return $"entry holds another key ({storedKey[..Math.Min(12, storedKey.Length)]}...)";
            if (!found.TryGetValue(VersionAttribute, out var storedVersion) || storedVersion != version) return $"stale entry (compiler version {storedVersion ?? "none"}, now {version})";
            // Touch every method body so a truncated image is caught here, not when loading.
            foreach (var m in md.MethodDefinitions)
            {
                var def = md.GetMethodDefinition(m);
                if (def.RelativeVirtualAddress != 0) pe.GetMethodBody(def.RelativeVirtualAddress);
            }
            return null;
        }
        catch (Exception e) when (e is BadImageFormatException or InvalidOperationException or ArgumentException or IndexOutOfRangeException)
        {
            return $"corrupt or truncated entry ({e.GetType().Name}: {e.Message})";
        }
    }

    /// <summary>Writes an entry atomically (temp file, then rename), so a crash never leaves half an entry.</summary>
    public void Store(string key, byte[] bytes) => Write(PathOf(key), bytes);

    private string PlanPathOf(string inputKey) => Path.Combine(Directory, inputKey + ".plan");

    /// <summary>
    /// The stored plan of a graph before the passes (see <see cref="PlanFile"/>), or null with the
    /// reason it is a miss; the reader checks what is inside.
    /// </summary>
    internal byte[]? TryLoadPlan(string inputKey, out string missReason)
    {
        var path = PlanPathOf(inputKey);
        var bytes = Read(path, "plan", out missReason);
        if (bytes is not null) Touch(path);
        return bytes;
    }

    /// <summary>Writes a plan atomically, as <see cref="Store"/> does an assembly.</summary>
    internal void StorePlan(string inputKey, byte[] bytes) => Write(PlanPathOf(inputKey), bytes);

    private void Write(string path, byte[] bytes)
    {
        System.IO.Directory.CreateDirectory(Directory);
        AtomicFile.Write(path, f => { f.Write(bytes); f.Write(SHA256.HashData(bytes)); });
        Evict(keep: path);
    }

    private const int SealBytes = 32;

    /// <summary>
    /// An entry's content without the SHA-256 of it that ends the file, or null when they do not
    /// match: a well-formed assembly or plan with one byte changed would otherwise load.
    /// </summary>
    private static byte[]? Unsealed(byte[] file)
    {
        if (file.Length < SealBytes) return null;
        var content = file.AsSpan(0, file.Length - SealBytes);
        return SHA256.HashData(content).AsSpan().SequenceEqual(file.AsSpan(file.Length - SealBytes)) ? content.ToArray() : null;
    }

    /// <summary>Deletes the least recently used entries (assemblies and plans) until the cache fits in <see cref="MaxBytes"/>.</summary>
    public void Evict(string? keep = null)
    {
        var folder = new DirectoryInfo(Directory);
        var entries = folder.GetFiles("*.dll").Concat(folder.GetFiles("*.plan")).OrderBy(f => f.LastWriteTimeUtc).ToList();
        long total = entries.Sum(f => f.Length);
        foreach (var f in entries)
        {
            if (total <= MaxBytes) break;
            if (f.FullName == keep) continue;
            long length = f.Length;
            try { f.Delete(); total -= length; DebugLog.Write(2, $"compile cache: evicted {f.Name}"); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }
}
