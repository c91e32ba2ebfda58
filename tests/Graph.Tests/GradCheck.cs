namespace GraphNet.Tests;

/// <summary>Checks a graph's analytic gradients against central finite differences in double.</summary>
public static class GradCheck
{
    /// <summary>An input: its shape and the range its random values come from.</summary>
    public sealed record Input(int[] Shape, double Lo = -1, double Hi = 1, NDArray? Value = null, DType DType = DType.Float64);

    /// <summary>
    /// Builds y = build(inputs) in float64, takes loss = Σ y·R for a fixed random R, and compares
    /// d loss / d input with (loss(x+ε) − loss(x−ε)) / 2ε for every element of every float input.
    /// </summary>
    public static void Check(Func<Graph, Tensor[], Tensor> build, params Input[] inputs) => Check(build, 1e-6, 1e-6, 1e-5, inputs);

    public static void Check(Func<Graph, Tensor[], Tensor> build, double eps, double atol, double rtol, params Input[] inputs)
    {
        var rng = new Random(1234);
        var g = new Graph(seed: 7);
        var ps = inputs.Select((inp, i) => g.Placeholder(inp.DType, inp.Shape, $"x{i}")).ToArray();
        var values = inputs.Select(inp => inp.Value ?? RefEval.RandomDouble(rng, inp.Shape, inp.Lo, inp.Hi)).ToArray();
        var y = build(g, ps);
        Assert.True(y.DType == DType.Float64, $"gradient checks run in float64; the op produced {y.DType}");
        var r = g.Constant(RefEval.RandomDouble(rng, y.Shape.ToArray(), 0.5, 1.5), "weights");
        var loss = F.Sum(y * r);
        var floatInputs = Enumerable.Range(0, ps.Length).Where(i => ps[i].DType.IsFloat()).ToArray();
        var grads = F.Gradients([loss], floatInputs.Select(i => ps[i]).ToArray());

        Dictionary<Tensor, NDArray> Feeds() => ps.Select((p, i) => (p, values[i])).ToDictionary(t => t.p, t => t.Item2);
        // Variables the op keeps (BatchNorm's running statistics) take their initial values.
        var variables = g.Variables.Select(v => (VariableOp)v.Op)
            .ToDictionary(v => v.VarName, v => v.Initializer!.Create(v.Type.DType, v.Type.Shape.ToArray(), 0));
        var fetches = grads.Where(gr => gr is not null).Cast<Tensor>().ToList();
        var analytic = fetches.Count > 0 ? RefEval.Run(fetches, Feeds(), variables) : [];
        int fi = 0;
        for (int k = 0; k < floatInputs.Length; k++)
        {
            int i = floatInputs[k];
            var x = values[i].As<double>();
            NDArray? a = grads[k] is null ? null : analytic[fi++];
            for (int j = 0; j < x.Length; j++)
            {
                double orig = x[j];
                x[j] = orig + eps; double up = RefEval.Run([loss], Feeds(), variables)[0].Item();
                x[j] = orig - eps; double down = RefEval.Run([loss], Feeds(), variables)[0].Item();
                x[j] = orig;
                double numeric = (up - down) / (2 * eps);
                double got = a is null ? 0 : a.GetDouble(j);
                if (Math.Abs(numeric - got) > atol + rtol * Math.Abs(numeric))
                    Assert.Fail($"d loss/d x{i}[{j}]: finite difference {numeric:G8}, gradient rule {got:G8}\n{g.ToText()}");
            }
        }
    }
}
