using GraphNet.Train;

namespace GraphNet.Compiler.Tests;

/// <summary>L-BFGS: its first two steps by hand, the cubic interpolation, and convergence on Rosenbrock's function in both modes.</summary>
public class LbfgsTests
{
    /// <summary>f(x) = Σ aᵢ(xᵢ − cᵢ)²/2 with gradient aᵢ(xᵢ − cᵢ).</summary>
    private static readonly double[] A = [1, 3, 10], C = [0.5, -1, 2], X0 = [2, 1, -1];

    private static (Executor Exec, Executor.StepFunction Closure, LBFGS Optimizer) Quadratic(ExecutionMode mode, int maxIter,
        string? lineSearch = null)
    {
        var exec = new Executor(new Graph(seed: 1), mode, new SessionOptions { UseCompileCache = false });
        var x = exec.Graph.Variable("x", [3], Initializer.FromValue(NDArray.From(X0, 3)), DType.Float64);
        var lbfgs = new LBFGS([x], lr: 0.5, maxIter: maxIter, lineSearchFn: lineSearch);
        var a = exec.Graph.Constant(NDArray.From(A, 3));
        var c = exec.Graph.Constant(NDArray.From(C, 3));
        var closure = exec.Function([], _ => lbfgs.Closure(F.Sum(a * F.Square(x - c)) * 0.5));
        return (exec, closure, lbfgs);
    }

    private static double[] Grad(double[] x) => [.. x.Select((v, i) => A[i] * (v - C[i]))];

    [Theory]
    [InlineData(ExecutionMode.Deferred), InlineData(ExecutionMode.Eager)]
    public void TheFirstTwoIterationsArePyTorchsByHand(ExecutionMode mode)
    {
        // max_iter 3 allows max_eval 3 (⌊3·5/4⌋): the closure at x₀, x₁ and x₂, so two iterations complete.
        var (exec, closure, lbfgs) = Quadratic(mode, maxIter: 3);
        using var _ = exec;
        lbfgs.Step(() => closure.Run([]), exec.Variables);
        var got = exec.Variables.Get("x").ToDoubleArray();

        // Iteration 1: x₁ = x₀ − t g₀ with t = min(1, 1/|g₀|₁)·lr.
        var g0 = Grad(X0);
        double t = Math.Min(1, 1 / g0.Sum(Math.Abs)) * 0.5;
        double[] x1 = [.. X0.Select((v, i) => v - t * g0[i])];
        // Iteration 2: the two-loop recursion with the one pair s = x₁ − x₀, y = g₁ − g₀, and step lr.
        var g1 = Grad(x1);
        double[] s = [.. x1.Select((v, i) => v - X0[i])], y = [.. g1.Select((v, i) => v - g0[i])];
        double ys = s.Zip(y, (p, q) => p * q).Sum(), rho = 1 / ys, hDiag = ys / y.Sum(v => v * v);
        double[] q = [.. g1.Select(v => -v)];
        double alpha = rho * s.Zip(q, (p, w) => p * w).Sum();
        q = [.. q.Select((v, i) => v - alpha * y[i])];
        double[] r = [.. q.Select(v => v * hDiag)];
        double beta = rho * y.Zip(r, (p, w) => p * w).Sum();
        r = [.. r.Select((v, i) => v + (alpha - beta) * s[i])];
        double[] x2 = [.. x1.Select((v, i) => v + 0.5 * r[i])];
        Assert.Equal(x2, got, (p, w) => Math.Abs(p - w) < 1e-12);
        Assert.Equal(2, lbfgs.Iterations);
        Assert.Equal(3, lbfgs.FunctionEvaluations);
    }

    [Theory]
    [InlineData(ExecutionMode.Deferred), InlineData(ExecutionMode.Eager)]
    public void StrongWolfeFindsTheMinimumOfRosenbrocksFunction(ExecutionMode mode)
    {
        using var exec = new Executor(new Graph(seed: 1), mode, new SessionOptions { UseCompileCache = false });
        var p = exec.Graph.Variable("p", [2], Initializer.FromValue(NDArray.From(new[] { -1.5, 2.0 }, 2)), DType.Float64);
        var lbfgs = new LBFGS([p], lr: 1, maxIter: 200, lineSearchFn: "strong_wolfe");
        var closure = exec.Function([], _ =>
        {
            var (x, y) = (F.Slice(p, 0, 0, 1), F.Slice(p, 0, 1, 1));
            return lbfgs.Closure(F.Sum(F.Square(1.0 - x) + 100.0 * F.Square(y - x * x)));
        });
        double first = lbfgs.Step(() => closure.Run([]), exec.Variables);
        Assert.Equal(Math.Pow(2.5, 2) + 100 * Math.Pow(2 - 2.25, 2), first, 1e-12);
        var at = exec.Variables.Get("p").ToDoubleArray();
        Assert.Equal(1, at[0], 1e-4);
        Assert.Equal(1, at[1], 1e-4);
        Assert.InRange(lbfgs.Iterations, 10, 200);
        Assert.True(lbfgs.FunctionEvaluations <= 250, $"{lbfgs.FunctionEvaluations} evaluations (max_eval is 250)");
    }

    [Fact]
    public void CubicInterpolationFindsTheMinimumOfACubic()
    {
        // f(x) = x³ − 3x has its local minimum at x = 1; f' = 3x² − 3.
        static double Fn(double x) => x * x * x - 3 * x;
        static double D(double x) => 3 * x * x - 3;
        Assert.Equal(1, LBFGS.CubicInterpolate(0, Fn(0), D(0), 2, Fn(2), D(2)), 1e-12);
        Assert.Equal(1.5, LBFGS.CubicInterpolate(0, Fn(0), D(0), 2, Fn(2), D(2), (1.5, 3)), 1e-12);
        // No real minimum (d2² = d1² − g1·g2 < 0, here d1 = 0): the middle of the bounds.
        Assert.Equal(0.5, LBFGS.CubicInterpolate(0, 0, 1, 1, 2.0 / 3, 1), 1e-12);
    }

    [Fact]
    public void BadArgumentsAreClearErrors()
    {
        var g = new Graph();
        var w = g.Variable("w", [2], Initializer.Zeros);
        Assert.Contains("line_search_fn 'backtracking'", Assert.Throws<GraphException>(() => new LBFGS([w], lineSearchFn: "backtracking")).Message);
        Assert.Contains("not a variable", Assert.Throws<GraphException>(() => new LBFGS([F.Exp(w)])).Message);
        var lbfgs = new LBFGS([w]);
        Assert.Contains("not a scalar", Assert.Throws<GraphException>(() => lbfgs.Closure(w * 2.0)).Message);
    }
}
