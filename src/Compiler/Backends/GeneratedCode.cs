using System.Text;

namespace GraphNet.Compiler;

/// <summary>
/// One compilation unit of generated code; <paramref name="Kernels"/> are the kernels whose code
/// it holds (kernels can share code).
/// </summary>
public sealed record SourceFile(string Name, string Text, IReadOnlyList<int> Kernels);

/// <summary>
/// Generated code with its structure as data: its files (each its own syntax tree, so Roslyn
/// binds them in parallel), which file holds which kernel, and which kernel each generated
/// method or type belongs to (to name the kernel a failure came from). Nothing re-parses the text.
/// </summary>
public sealed class GeneratedCode(string className, IReadOnlyList<SourceFile> files, IReadOnlyDictionary<string, int> kernelOfMember,
    string? index = null)
{
    /// <summary>
    /// What each kernel runs, as comments for people (its nodes, their source lines, its method and
    /// arguments): part of <see cref="Text"/>, not of the compiled files.
    /// </summary>
    public string? Index { get; } = index;

    /// <summary>The generated class, in namespace GraphNet.Generated.</summary>
    public string ClassName { get; } = className;
    public IReadOnlyList<SourceFile> Files { get; } = files;

    /// <summary>The kernel a generated method or nested type (by its name) belongs to, or null.</summary>
    public int? KernelOf(string member) => kernelOfMember.TryGetValue(member, out var k) ? k : null;

    /// <summary>The file that holds kernel <paramref name="kernel"/>, or null.</summary>
    public SourceFile? FileOf(int kernel) => Files.FirstOrDefault(f => f.Kernels.Contains(kernel));

    /// <summary>All files in one text, each under a line naming it (for dumps and GRAPHNET_DEBUG=4).</summary>
    public string Text
    {
        get
        {
            var sb = new StringBuilder();
            if (Index is not null) sb.AppendLine("// ==== kernels (a listing, not compiled) ====").Append(Index).AppendLine();
            foreach (var f in Files) sb.AppendLine($"// ==== {f.Name} ====").Append(f.Text).AppendLine();
            return sb.ToString();
        }
    }
}
