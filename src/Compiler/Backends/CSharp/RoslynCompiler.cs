using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace GraphNet.Compiler.Backends.CSharp;

/// <summary>Compiles generated C# in process with Roslyn into an optimized assembly image.</summary>
internal static class RoslynCompiler
{
    private static readonly string[] FrameworkAssemblies =
    [
        "System.Private.CoreLib", "System.Runtime", "System.Runtime.Intrinsics", "System.Runtime.InteropServices",
        "System.Memory", "System.Collections", "System.Threading.Tasks.Parallel", "System.Numerics.Vectors", "System.Linq", "netstandard",
    ];

    private static readonly Lazy<MetadataReference[]> References = new(() =>
    {
        var tpa = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "").Split(Path.PathSeparator);
        var framework = tpa.Where(p => FrameworkAssemblies.Contains(Path.GetFileNameWithoutExtension(p)));
        var own = new[] { typeof(Graph).Assembly, typeof(Runtime.Interpreter).Assembly, typeof(CompiledStep).Assembly, typeof(ILGPU.Index1D).Assembly }.Select(a => a.Location);
        return framework.Concat(own).Distinct().Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToArray();
    });

    private static int warmedUp;
    private static readonly CancellationTokenSource warmUpCancel = new();

    /// <summary>
    /// Roslyn's first compilation in a process spends about a second JIT-compiling Roslyn itself.
    /// A session starts that on a worker thread, so it overlaps with the user's set-up work.
    /// </summary>
    public static void WarmUpInBackground()
    {
        if (Interlocked.Exchange(ref warmedUp, 1) == 1) return;
        Task.Run(() =>
        {
            try
            {
                const string source = "namespace GraphNet.Generated; public static class WarmUp { public static int Twice(int x) => 2 * x; }";
                var file = new SourceFile("WarmUp.cs", source, []);
                Compile(new GeneratedCode("WarmUp", [file], new Dictionary<string, int>()), warmUpCancel.Token);
            }
            catch (OperationCanceledException) { DebugLog.Write(2, "Roslyn warm-up stopped: the compile cache had the code"); }
            catch (Exception e) { DebugLog.Write(2, $"Roslyn warm-up failed: {e.Message}"); }
        });
    }

    /// <summary>
    /// Stops the warm-up once a compilation came from the disk cache: otherwise it keeps one core
    /// busy for seconds while the first training steps want both (measured: the CNN's first 30
    /// steps ran at half speed).
    /// </summary>
    public static void StopWarmUp() => warmUpCancel.Cancel();

    /// <summary>Compiles each file as its own syntax tree (Roslyn binds them in parallel) into one assembly.</summary>
    public static byte[] Compile(GeneratedCode code, CancellationToken cancel = default)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        string assemblyName = "GraphNet.Generated." + code.ClassName;
        var parse = new CSharpParseOptions(LanguageVersion.Latest, DocumentationMode.None);
        var trees = code.Files.Select(f => CSharpSyntaxTree.ParseText(f.Text, parse, path: f.Name)).ToArray();
        var options = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary,
            optimizationLevel: OptimizationLevel.Release, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable,
            deterministic: true, concurrentBuild: true);
        var compilation = CSharpCompilation.Create(assemblyName, trees, References.Value, options);
        var parsed = sw.Elapsed;
        using var ms = new MemoryStream();
        var result = compilation.Emit(ms, cancellationToken: cancel);
        DebugLog.Write(2, $"  roslyn: {trees.Length} files, {code.Files.Sum(f => f.Text.Length):N0} chars: " +
            $"parsed in {parsed.TotalMilliseconds:F0} ms, compiled in {(sw.Elapsed - parsed).TotalMilliseconds:F0} ms");
        if (!result.Success)
        {
            var errors = result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(10).Select(d => d.ToString());
            var path = Path.Combine(Path.GetTempPath(), assemblyName + ".cs");
            File.WriteAllText(path, code.Text);
            throw new InvalidOperationException($"the generated C# does not compile (a GraphNet compiler bug; the source is in {path}):\n  " + string.Join("\n  ", errors));
        }
        return ms.ToArray();
    }
}
