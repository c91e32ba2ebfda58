using System.CommandLine;
using System.Globalization;

namespace GraphNet.Examples;

/// <summary>
/// An example script's command line: options parsed by System.CommandLine (which answers --help, an unknown
/// option and a bad value itself), and a run that turns an error into its message and exit code 1. A user's
/// mistake (a missing file, a truncated checkpoint, a shape that does not fit) prints no stack trace unless
/// GRAPHNET_DEBUG is set; what is not a user's mistake says so.
/// </summary>
public static class ExampleCli
{
    /// <summary>Parses <paramref name="args"/> against <paramref name="command"/> and runs <paramref name="main"/> with the result.</summary>
    public static int Run(RootCommand command, string[] args, Func<ParseResult, int> main)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        command.SetAction(parsed => Guarded(() => main(parsed)));
        return command.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }

    /// <summary>An option with a default value and a description.</summary>
    public static Option<T> Option<T>(string name, T defaultValue, string description) =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue };

    /// <summary>An option without a default (null when not given).</summary>
    public static Option<T?> Optional<T>(string name, string description) => new(name) { Description = description };

    /// <summary>A string option that takes one of <paramref name="choices"/>, the first by default.</summary>
    public static Option<string> Choice(string name, string description, params string[] choices)
    {
        var option = new Option<string>(name)
        {
            Description = description,
            DefaultValueFactory = _ => choices[0],
        };
        option.AcceptOnlyFromAmong(choices);
        return option;
    }

    /// <summary>Runs <paramref name="main"/>; an exception becomes a message on standard error and exit code 1.</summary>
    public static int Guarded(Func<int> main)
    {
        try { return main(); }
        catch (Exception e)
        {
            bool debug = Environment.GetEnvironmentVariable("GRAPHNET_DEBUG") is { Length: > 0 } d && d != "0";
            Console.Out.Flush();
            Console.Error.WriteLine(debug ? $"error: {e}" : $"error: {Messages(e)}");
            if (!debug && !IsUsersMistake(e))
                Console.Error.WriteLine("(this looks like a bug in GraphNet: GRAPHNET_DEBUG=1 shows where it happened)");
            return 1;
        }
    }

    /// <summary>The message and those of the exceptions inside it that add to it.</summary>
    private static string Messages(Exception e)
    {
        var parts = new List<string>();
        for (var x = e; x is not null; x = x.InnerException)
            if (!parts.Any(p => p.Contains(x.Message))) parts.Add(x.Message);
        return string.Join("\n  ", parts);
    }

    private static bool IsUsersMistake(Exception e) =>
        e is GraphException or IOException or UnauthorizedAccessException or ArgumentException or FormatException
            or InvalidDataException or NotSupportedException or OperationCanceledException;
}
