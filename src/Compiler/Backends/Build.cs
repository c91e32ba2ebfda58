namespace GraphNet.Compiler;

/// <summary>
/// The build stage: the backend compiles the generated code into an assembly (Roslyn), stored in the disk cache;
/// skipped on a cache hit.
/// </summary>
public sealed class Build : Stage
{
    public override string Name => "build";

    public override void Run(Compilation c)
    {
        if (c.HasImage) return; // read from the cache
        c.Image = c.Backend.Build(c.Report.Code);
        c.Report.Built = true;
        // A cache that cannot be written (a read-only home directory) only costs the next process a build.
        try { c.Cache?.Store(c.Report.CacheKey, c.Image); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            DebugLog.Write(1, $"could not write the compile cache: {e.Message}");
        }
    }

    public override IEnumerable<(string File, Func<string> Text)> Dump(Compilation c)
    {
        var (bytes, cache, key) = (c.Image.Length, c.Report.Cache, c.Report.CacheKey);
        return [("txt", () => $"assembly {bytes:N0} bytes; cache key {key}; cache: {(cache.Length == 0 ? "off" : cache)}\n")];
    }
}
