using GraphNet.Compiler;
using GraphNet.Nn;
using GraphNet.Train;

namespace GraphNet.Bench;

/// <summary>
/// pytorch/examples' time_sequence_prediction model: two LSTMCell(51) and a Linear(51, 1) stepped
/// over each sine wave, then on for <c>future</c> steps feeding each prediction back in; here both
/// loops are F.Scans (float32: float64 GEMMs have no library kernel yet).
/// </summary>
public sealed class TimeSequenceModel(Graph g)
{
    public const int Hidden = 51;
    private readonly LSTMCell lstm1 = new(g, "lstm1", 1, Hidden), lstm2 = new(g, "lstm2", Hidden, Hidden);
    private readonly Linear linear = new(g, "linear", Hidden, 1);

    /// <summary>Predictions [N, T + future] for an input [N, T].</summary>
    public Tensor Forward(Tensor input, int future = 0)
    {
        int n = input.Shape[0], steps = input.Shape[1];
        var zeros = input.Graph.Constant(NDArray.Zeros(input.DType, n, Hidden), "zeros");
        Tensor[] Cell(Tensor[] s, Tensor x)
        {
            var (h1, c1) = lstm1.Forward(x, (s[0], s[1]));
            var (h2, c2) = lstm2.Forward(h1, (s[2], s[3]));
            return [h1, c1, h2, c2, linear.Forward(h2)];
        }
        var (state, ys) = F.Scan((s, x) => { var r = Cell(s, x[0]); return (r[..4], [r[4]]); },
            [zeros, zeros, zeros, zeros], [F.Reshape(input, [n, steps, 1])], axis: 1);
        var outputs = F.Reshape(ys[0], [n, steps]);
        if (future == 0) return outputs;
        var last = F.Slice(outputs, 1, steps - 1, 1);
        var (_, more) = F.Scan((s, _) => { var r = Cell(s, s[4]); return (r, [r[4]]); }, [.. state, last], [], length: future);
        // The outputs are stacked along the loop's axis 0: [future, N, 1] (a reshape alone interleaved the waves).
        return F.Concat([outputs, F.Reshape(F.Transpose(more[0], 1, 0, 2), [n, future])], 1);
    }

    /// <summary>
    /// generate_sine_wave.py's data: <paramref name="count"/> waves sin((t + shift) / 20) over 1,000
    /// points, shifts uniform in [-80, 80) (System.Random, not NumPy's generator). The first three
    /// waves are the test set; inputs are each wave but its last point, targets each but its first.
    /// </summary>
    public static (NDArray Input, NDArray Target, NDArray TestInput, NDArray TestTarget) SineWaves(int count = 100, int length = 1000, int seed = 2)
    {
        var rng = new Random(seed);
        var shifts = Enumerable.Range(0, count).Select(_ => rng.Next(-80, 80)).ToArray();
        float Wave(int i, int t) => (float)Math.Sin((t + shifts[i]) / 20.0);
        NDArray Part(int from, int to, int skip) => NDArray.From(Enumerable.Range(from, to - from)
            .SelectMany(i => Enumerable.Range(skip, length - 1).Select(t => Wave(i, t))).ToArray(), to - from, length - 1);
        return (Part(3, count, 0), Part(3, count, 1), Part(0, 3, 0), Part(0, 3, 1));
    }

    /// <summary>The training step (MSE, Adam at lr 0.01) on an executor, deferred or eager.</summary>
    public static Executor.StepFunction TrainStep(Executor exec, int sequences, int steps)
    {
        var model = new TimeSequenceModel(exec.Graph);
        var adam = new Adam(0.01);
        return exec.Function([TensorSpec.Float("input", sequences, steps), TensorSpec.Float("target", sequences, steps)], xs =>
        {
            var loss = F.MseLoss(model.Forward(xs[0]), xs[1]);
            return [loss, adam.Minimize(loss)];
        });
    }
}
