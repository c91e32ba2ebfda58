using System.Security.Cryptography;
using System.Text;

namespace GraphNet.Compiler;

/// <summary>
/// The code-generation stage: the cache key from the optimized unit and the options, then the
/// backend's code; on a disk-cache hit the assembly is read instead and the code is made only if
/// someone reads it (a dump, a report, a failure's kernel name).
/// </summary>
public sealed class Generate : Stage
{
    public override string Name => "generate";

    public override void Run(Compilation c)
    {
        var canonical = c.Unit.ToText() + "feeds " + string.Join(",", c.Unit.Feeds.Select(f => f.Node.Id)) + "\n" + c.Options;
        var key = c.Report.CacheKey = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))[..32].ToLowerInvariant();
        if (c.Cache is { } cache)
        {
            var image = cache.TryLoad(key, Compilation.Version, out var miss);
            c.Report.Cache = image is null ? miss : "hit";
            DebugLog.Write(2, image is null ? $"compile cache miss for {key[..12]}: {miss}" : $"compile cache hit for {key[..12]}");
            if (image is not null)
            {
                c.Image = image;
                Backends.CSharp.RoslynCompiler.StopWarmUp();
                c.Report.CodeFactory = () => c.Backend.Emit(c);
                return;
            }
        }
        c.Report.Code = c.Backend.Emit(c);
    }

    public override IEnumerable<(string File, Func<string> Text)> Dump(Compilation c)
    {
        var report = c.Report;
        return [("cs", () => report.Source)];
    }
}
