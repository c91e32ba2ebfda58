namespace GraphNet.Compiler;

/// <summary>How much the compiler and runtime print: GRAPHNET_DEBUG=0..4 (see the README's table).</summary>
public static class DebugLog
{
    public static int Level { get; set; } = int.TryParse(Environment.GetEnvironmentVariable("GRAPHNET_DEBUG"), out var l) ? l : 0;

    public static void Write(int level, string message)
    {
        if (Level >= level) Console.Error.WriteLine("[graphnet] " + message);
    }
}
