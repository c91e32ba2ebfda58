using System.Diagnostics;
using System.Reflection;

namespace GraphNet;

/// <summary>Where in user code a node was made: the first stack frame outside GraphNet's own assemblies.</summary>
public sealed record SourceLocation(string File, int Line)
{
    public static readonly SourceLocation Unknown = new("?", 0);

    /// <summary>Capturing costs a stack walk; eager mode may switch it off.</summary>
    [ThreadStatic] internal static bool Disabled;

    private static readonly string[] LibraryAssemblies = ["GraphNet.Graph", "GraphNet.Runtime", "GraphNet.Compiler"];

    private static bool IsLibrary(Assembly asm)
    {
        var name = asm.GetName().Name ?? "";
        return LibraryAssemblies.Contains(name) || name == "System" || name.StartsWith("System.")
            || name.StartsWith("Microsoft.") || name.StartsWith("xunit");
    }

    public static SourceLocation Capture()
    {
        if (Disabled) return Unknown;
        foreach (var frame in new StackTrace(1, true).GetFrames())
        {
            var method = frame.GetMethod();
            if (method?.DeclaringType?.Assembly is not { } asm || IsLibrary(asm)) continue;
            var file = frame.GetFileName();
            return file is null ? new SourceLocation(method.DeclaringType.Name + "." + method.Name, 0)
                                : new SourceLocation(file, frame.GetFileLineNumber());
        }
        return Unknown;
    }

    /// <summary>File name and line, e.g. <c>mnist_cnn.cs:42</c>.</summary>
    public override string ToString() => Line == 0 ? File : $"{Path.GetFileName(File)}:{Line}";
}
