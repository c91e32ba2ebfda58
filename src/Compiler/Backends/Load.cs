using System.Runtime.Loader;

namespace GraphNet.Compiler;

/// <summary>
/// The load stage: the assembly goes into a collectible load context (unloaded when the
/// executable is disposed), and the backend turns its generated class into the executable.
/// </summary>
public sealed class Load : Stage
{
    public override string Name => "load";

    public override bool RunsOnRestore => true;

    public override void Run(Compilation c)
    {
        var context = new AssemblyLoadContext("graphnet-" + c.Report.CacheKey[..12], isCollectible: true);
        var assembly = context.LoadFromStream(new MemoryStream(c.Image));
        var type = assembly.GetType("GraphNet.Generated." + c.ClassName)
            ?? throw new InvalidOperationException($"generated assembly lacks {c.ClassName}");
        c.LoadContext = context;
        c.Executable = c.Backend.Load(c, Activator.CreateInstance(type)!);
    }

    public override IEnumerable<(string File, Func<string> Text)> Dump(Compilation c)
    {
        var (name, kernels, backend) = (c.ClassName, c.Kernels.Count, c.Backend.Name);
        return [("txt", () => $"GraphNet.Generated.{name} loaded for the {backend} backend: {kernels} kernels\n")];
    }
}
