using System.Diagnostics;
using System.Globalization;

namespace GraphNet.Compiler.Tests;

/// <summary>
/// The pytorch/examples ports run as a user runs them (<c>dotnet run -c Release examples/X.cs -- --quick</c>),
/// learn, end with their key=value figures, and answer a user's mistake with a message, not a stack trace.
/// </summary>
public class ExampleScriptTests
{
    private static readonly string Root = FindRoot();

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "GraphNet.sln"))) return d.FullName;
        throw new InvalidOperationException("GraphNet.sln not found above the test assembly");
    }

    internal static (int Code, string Out, string Err) RunScript(string script, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.Combine(Root, "examples"), RedirectStandardOutput = true, RedirectStandardError = true,
        };
        foreach (var a in (string[])["run", "-c", "Release", script, "--", .. args]) psi.ArgumentList.Add(a);
        psi.Environment.Remove("GRAPHNET_DEBUG");
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromMinutes(4)))
        {
            p.Kill(true);
            throw new TimeoutException($"{script} {string.Join(" ", args)} ran over 4 minutes");
        }
        return (p.ExitCode, output, err.Result);
    }

    internal static double Figure(string output, string key)
    {
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith(key + "="))
            ?? throw new Xunit.Sdk.XunitException($"no {key}= line in:\n{output}");
        return double.Parse(line[(key.Length + 1)..].Trim(), CultureInfo.InvariantCulture);
    }

    [Fact]
    public void MnistQuickLearnsAndEndsWithItsFigures()
    {
        var (code, output, err) = RunScript("mnist.cs", "--quick");
        Assert.True(code == 0, $"exit {code}\n{output}\n{err}");
        Assert.Contains("Train Epoch: 1 [640/3200 (20%)]\tLoss: ", output);
        Assert.Contains("Test set: Average loss: ", output);
        Assert.InRange(Figure(output, "test_accuracy"), 0.65, 1.0); // 10 classes: chance is 0.1
        Assert.InRange(Figure(output, "test_loss"), 0.0, 1.2);     // ln 10 = 2.30 at the start
        Assert.True(Figure(output, "train_seconds") > 0);

        (code, output, err) = RunScript("mnist.cs", "--quick", "--data", "/nonexistent/folder");
        Assert.Equal(1, code);
        Assert.StartsWith("error: ", err);
        Assert.Contains("/nonexistent/folder", err);
        Assert.DoesNotContain("   at ", err); // no stack trace
    }

    [Fact]
    public void VaeQuickLearnsAndWritesItsGrids()
    {
        var results = Path.Combine(Path.GetTempPath(), $"graphnet-vae-{Guid.NewGuid():N}");
        try
        {
            var (code, output, err) = RunScript("vae.cs", "--quick", "--results", results);
            Assert.True(code == 0, $"exit {code}\n{output}\n{err}");
            Assert.Contains("====> Epoch: 1 Average loss: ", output);
            // A batch starts near 784·ln 2 = 543 a sample (every pixel at p = 0.5); the quick epoch gets below 360.
            Assert.InRange(Figure(output, "test_loss"), 100, 360);
            foreach (var grid in (string[])["reconstruction_1.png", "sample_1.png"])
            {
                var png = File.ReadAllBytes(Path.Combine(results, grid));
                Assert.Equal((byte)137, png[0]);
                // 16 images of 28x28 in one row of 8 ... save_image's sizes: 8·30 + 2 wide, 2·30 + 2 high; 64 in 8 rows.
                int w = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16));
                int h = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20));
                Assert.Equal(grid.StartsWith("sample") ? (242, 242) : (242, 62), (w, h));
            }
        }
        finally { if (Directory.Exists(results)) Directory.Delete(results, true); }
    }

    [Fact]
    public void DcganQuickTrainsBothNetworksAndWritesGridsAndStateDicts()
    {
        var outf = Path.Combine(Path.GetTempPath(), $"graphnet-dcgan-{Guid.NewGuid():N}");
        try
        {
            var (code, output, err) = RunScript("dcgan.cs", "--quick", "--outf", outf, "--manualSeed", "1");
            Assert.True(code == 0, $"exit {code}\n{output}\n{err}");
            var lines = output.Split('\n').Where(l => l.StartsWith("[0/1][")).ToList();
            Assert.Equal(12, lines.Count);
            // The discriminator learns to tell real from generated within a few steps: D(x) up, D(G(z)) down.
            double Dx(string l) => double.Parse(l.Split("D(x): ")[1].Split(' ')[0], CultureInfo.InvariantCulture);
            Assert.True(lines.Skip(6).Average(Dx) > 0.7, string.Join("\n", lines));
            Assert.InRange(Figure(output, "loss_d"), 0, 3);
            Assert.True(Figure(output, "loss_g") > 0);
            foreach (var f in (string[])["real_samples.png", "fake_samples_epoch_000.png", "netG_epoch_0.safetensors", "netD_epoch_0.safetensors"])
                Assert.True(File.Exists(Path.Combine(outf, f)), f);
            var g = GraphNet.Runtime.SafeTensors.Read(Path.Combine(outf, "netG_epoch_0.safetensors")).Tensors;
            Assert.Equal(new[] { 100, 512, 4, 4 }, g["main.0.weight"].Shape); // PyTorch's names and layouts
            Assert.Contains("main.1.running_var", g.Keys);
        }
        finally { if (Directory.Exists(outf)) Directory.Delete(outf, true); }
    }

    [Fact]
    public void MnistRnnQuickLearnsAndEndsWithItsFigures()
    {
        var (code, output, err) = RunScript("mnist_rnn.cs", "--quick");
        Assert.True(code == 0, $"exit {code}\n{output}\n{err}");
        Assert.Contains("Test set: Average loss: ", output);
        Assert.InRange(Figure(output, "test_accuracy"), 0.25, 1.0); // Adadelta at 0.1 starts slowly; chance is 0.1
        Assert.InRange(Figure(output, "test_loss"), 0.0, 2.1);      // from ln 10 = 2.30
    }

    [Fact]
    public void TimeSequencePredictionQuickFitsTheWavesWithLbfgs()
    {
        var (code, output, err) = RunScript("time_sequence_prediction.cs", "--quick");
        Assert.True(code == 0, $"exit {code}\n{output}\n{err}");
        Assert.Contains("STEP:  1", output);
        var testLosses = output.Split('\n').Where(l => l.StartsWith("test loss: "))
            .Select(l => double.Parse(l["test loss: ".Length..], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(2, testLosses.Length);
        Assert.True(testLosses[1] < testLosses[0], $"the test loss should fall: {string.Join(", ", testLosses)}");
        Assert.Equal(testLosses[1], Figure(output, "test_loss"), 1e-4 * testLosses[1]);
        Assert.InRange(Figure(output, "closure_evaluations"), 3, 10); // each step re-evaluates the closure, at most max_eval (5) times
        // The 200 future steps continue each wave smoothly (a sine of period 126 moves at most 0.05 a step).
        Assert.InRange(Figure(output, "future_max_step"), 0.0, 0.2);
    }
}
