using System.CommandLine;
using GraphNet.Examples;
using GraphNet.Runtime;

namespace GraphNet.Compiler.Tests;

/// <summary>
/// The examples' command line: help and bad options answered by the parser, a user's mistake reported as its
/// message and exit code 1 with no stack trace (a truncated checkpoint passed to --resume printed one).
/// </summary>
[CollectionDefinition("Console", DisableParallelization = true)]
[Collection("Console")]
public class ExampleCliTests
{
    private static (int Code, string Out, string Err) Run(string[] args, Func<ParseResult, int> main, string? debug = null)
    {
        var count = ExampleCli.Option("--count", 1, "how many");
        var mode = ExampleCli.Choice("--mode", "which", "deferred", "eager");
        var command = new RootCommand("test") { count, mode };
        TextWriter stdout = Console.Out, stderr = Console.Error;
        var o = new StringWriter(); var e = new StringWriter();
        string? before = Environment.GetEnvironmentVariable("GRAPHNET_DEBUG");
        Environment.SetEnvironmentVariable("GRAPHNET_DEBUG", debug);
        Console.SetOut(o); Console.SetError(e);
        try { return (ExampleCli.Run(command, args, main), o.ToString(), e.ToString()); }
        finally { Console.SetOut(stdout); Console.SetError(stderr); Environment.SetEnvironmentVariable("GRAPHNET_DEBUG", before); }
    }

    [Fact]
    public void HelpListsTheOptionsWithTheirDefaults()
    {
        var (code, output, _) = Run(["--help"], _ => throw new InvalidOperationException("the action must not run for --help"));
        Assert.Equal(0, code);
        Assert.Contains("--count", output);
        Assert.Contains("[default: 1]", output);
        Assert.Contains("deferred", output);
    }

    [Theory]
    [InlineData("--count", "many")]
    [InlineData("--mode", "lazy")]
    [InlineData("--colour", "red")]
    public void ABadOptionIsAnErrorNamingIt(string option, string value)
    {
        var (code, _, err) = Run([option, value], _ => 0);
        Assert.NotEqual(0, code);
        Assert.Contains(option == "--colour" ? option : value, err);
    }

    [Fact]
    public void TheOptionsReachTheAction()
    {
        var (code, output, _) = Run(["--count", "3", "--mode", "eager"], r =>
        {
            Console.Write($"{r.GetValue<int>("--count")} {r.GetValue<string>("--mode")}");
            return 0;
        });
        Assert.Equal(0, code);
        Assert.Equal("3 eager", output);
    }

    [Fact]
    public void AUsersMistakeIsItsMessageWithoutAStackTrace()
    {
        var path = Path.Combine(Path.GetTempPath(), $"graphnet-truncated-{Guid.NewGuid():N}.safetensors");
        File.WriteAllBytes(path, [8, 0, 0, 0, 0, 0, 0, 0, (byte)'{']);
        try
        {
            var (code, _, err) = Run([], _ => { SafeTensors.Read(path); return 0; });
            Assert.Equal(1, code);
            Assert.Contains("error: ", err);
            Assert.Contains(path, err);
            Assert.DoesNotContain("   at ", err);
            Assert.DoesNotContain("bug", err);
            var (debugCode, _, debugErr) = Run([], _ => { SafeTensors.Read(path); return 0; }, debug: "1");
            Assert.Equal(1, debugCode);
            Assert.Contains("   at ", debugErr);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void AnErrorThatIsNotTheUsersSaysSo()
    {
        var (code, _, err) = Run([], _ => throw new NullReferenceException("oops"));
        Assert.Equal(1, code);
        Assert.Contains("oops", err);
        Assert.Contains("GRAPHNET_DEBUG=1", err);
        Assert.DoesNotContain("   at ", err);
    }
}
