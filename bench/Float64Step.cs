using System.Diagnostics;
using GraphNet.Compiler;
using GraphNet.Nn;
using GraphNet.Train;

namespace GraphNet.Bench;

/// <summary>
/// The book's CNN training step (Adadelta, batch 64, compiled) in float32 and in float64, in
/// alternating rounds so that the machine's noise falls on both alike: the ratio is the figure.
/// </summary>
public static class Float64Step
{
    public static int Command(int rounds)
    {
        var steps = new[] { DType.Float32, DType.Float64 }.Select(dt => (DType: dt, Run: Build(dt))).ToList();
        foreach (var (_, run) in steps) for (int i = 0; i < 60; i++) run(); // past compilation and the JIT's tiers
        var medians = steps.ToDictionary(s => s.DType, _ => new List<double>());
        for (int r = 0; r < rounds; r++)
            foreach (var (dt, run) in steps)
            {
                var times = new List<double>();
                for (int i = 0; i < 20; i++) { long t0 = Stopwatch.GetTimestamp(); run(); times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds); }
                medians[dt].Add(Versus.Median(times));
                Console.WriteLine($"round {r + 1}: {dt.ToString().ToLowerInvariant()} {medians[dt][^1]:F2} ms");
            }
        var ratios = Enumerable.Range(0, rounds).Select(r => medians[DType.Float64][r] / medians[DType.Float32][r]);
        Console.WriteLine($"float32_step_ms={Versus.Median(medians[DType.Float32]):F2}");
        Console.WriteLine($"float64_step_ms={Versus.Median(medians[DType.Float64]):F2}");
        Console.WriteLine($"float64_ratio={Versus.Median(ratios):F2}");
        return 0;
    }

    /// <summary>One compiled training step of the book's CNN in <paramref name="dt"/>, on fixed random data.</summary>
    private static Action Build(DType dt)
    {
        var exec = new Executor(new Graph(seed: 1), ExecutionMode.Deferred);
        var conv1 = new Conv2d(1, 32, 3, dtype: dt); var conv2 = new Conv2d(32, 64, 3, dtype: dt);
        var fc1 = new Linear(9216, 128, dtype: dt); var fc2 = new Linear(128, 10, dtype: dt);
        var optimizer = new Adadelta(0.5);
        var step = exec.Function([new TensorSpec(dt, [-1, 1, 28, 28], "x"), TensorSpec.Int64("y", -1)], xs =>
        {
            var h = F.MaxPool2d(F.Relu(conv2.Forward(F.Relu(conv1.Forward(xs[0])))), 2);
            var logits = fc2.Forward(F.Relu(fc1.Forward(F.Flatten(F.Dropout(h, 0.25)))));
            var loss = F.NllLoss(F.LogSoftmax(logits, 1), xs[1]);
            return [loss, optimizer.Minimize(loss)];
        });
        var x = NDArray.Rand([64, 1, 28, 28], 1, dt);
        var y = NDArray.From(Enumerable.Range(0, 64).Select(i => (long)(i % 10)).ToArray(), 64);
        return () => step.Run([x, y]);
    }
}
