using GraphNet.Runtime;

namespace GraphNet.Train;

/// <summary>
/// L-BFGS as PyTorch's <c>torch.optim.LBFGS</c> implements it (history of (s, y) pairs, the
/// two-loop recursion, the first step scaled to min(1, 1/|g|₁)·lr, the gradient and change
/// tolerances, and the optional strong-Wolfe line search ported from lswolfe.lua). The closure,
/// which PyTorch re-evaluates, is a step function: build it with <see cref="Closure"/> (the loss and
/// the parameters' gradients), compile it once with the executor, and hand <see cref="Step"/> a call
/// of it: every re-evaluation then runs as a compiled step (or eagerly, in eager mode). The
/// algorithm itself runs on the host in float64 over the flattened parameters, read from and
/// written to the variables.
/// </summary>
public sealed class LBFGS
{
    private readonly Func<IReadOnlyList<Tensor>> parametersOf;
    private IReadOnlyList<Tensor>? parameters;
    private string[] names = [];
    private int[] sizes = [];
    private int total;

    // PyTorch's state, kept between Step calls.
    private double[]? d, prevFlatGrad;
    private double t, hDiag = 1, prevLoss;
    private readonly List<double[]> oldDirs = [], oldSteps = [];
    private readonly List<double> ro = [];

    public LBFGS(IReadOnlyList<Tensor> parameters, double lr = 1, int maxIter = 20, int? maxEval = null, double toleranceGrad = 1e-7,
        double toleranceChange = 1e-9, int historySize = 100, string? lineSearchFn = null)
        : this(() => parameters, lr, maxIter, maxEval, toleranceGrad, toleranceChange, historySize, lineSearchFn) => Resolve();

    /// <summary>
    /// Over a module's parameters, read when <see cref="Closure"/> first runs (after the module's
    /// first forward pass has made them).
    /// </summary>
    public LBFGS(Nn.Module module, double lr = 1, int maxIter = 20, int? maxEval = null, double toleranceGrad = 1e-7,
        double toleranceChange = 1e-9, int historySize = 100, string? lineSearchFn = null)
        : this(module.Parameters, lr, maxIter, maxEval, toleranceGrad, toleranceChange, historySize, lineSearchFn) { }

    private LBFGS(Func<IReadOnlyList<Tensor>> parameters, double lr, int maxIter, int? maxEval, double toleranceGrad,
        double toleranceChange, int historySize, string? lineSearchFn)
    {
        if (lineSearchFn is not (null or "strong_wolfe"))
            throw new GraphException($"LBFGS: line_search_fn '{lineSearchFn}' is not supported; use null or \"strong_wolfe\"");
        if (!(lr > 0)) throw new GraphException($"LBFGS: learning rate {lr} must be positive");
        parametersOf = parameters;
        (LearningRate, MaxIter, MaxEval, ToleranceGrad, ToleranceChange, HistorySize, LineSearchFn) =
            (lr, maxIter, maxEval ?? maxIter * 5 / 4, toleranceGrad, toleranceChange, historySize, lineSearchFn);
    }

    private IReadOnlyList<Tensor> Resolve()
    {
        if (parameters is not null) return parameters;
        var ps = parametersOf();
        if (ps.Count == 0) throw new GraphException("LBFGS: no parameters to optimize");
        foreach (var p in ps)
            if (p.Node.Op is not VariableOp) throw new GraphException($"LBFGS: '{p.Name}' is not a variable");
        names = ps.Select(p => ((VariableOp)p.Node.Op).VarName).ToArray();
        sizes = ps.Select(p => (int)p.Shape.StaticSize).ToArray();
        total = sizes.Sum();
        return parameters = ps;
    }

    public double LearningRate { get; set; }
    public int MaxIter { get; }
    public int MaxEval { get; }
    public double ToleranceGrad { get; }
    public double ToleranceChange { get; }
    public int HistorySize { get; }
    public string? LineSearchFn { get; }

    /// <summary>Iterations over all steps (PyTorch's state['n_iter']).</summary>
    public int Iterations { get; private set; }

    /// <summary>Closure evaluations over all steps (state['func_evals']).</summary>
    public int FunctionEvaluations { get; private set; }

    /// <summary>What the closure function returns: the loss, then each parameter's gradient (zeros where it has none).</summary>
    public Tensor[] Closure(Tensor loss)
    {
        if (loss.Rank != 0) throw new GraphException($"LBFGS: the loss '{loss.Name}' is {loss.Type}, not a scalar");
        var ps = Resolve();
        var grads = F.Gradients([loss], ps);
        return [loss, .. grads.Select((g, i) => g ?? F.ZerosLike(ps[i]))];
    }

    /// <summary>
    /// One <c>optimizer.step(closure)</c>: <paramref name="closure"/> runs the function built from
    /// <see cref="Closure"/> at the variables' current values; returns the loss it gave first.
    /// </summary>
    public double Step(Func<NDArray[]> closure, VariableStore variables)
    {
        var (origLoss, flatGrad) = Evaluate(closure);
        double loss = origLoss;
        int currentEvals = 1;
        FunctionEvaluations++;
        if (MaxAbs(flatGrad) <= ToleranceGrad) return origLoss;
        int nIter = 0;
        while (nIter < MaxIter)
        {
            nIter++; Iterations++;
            if (Iterations == 1)
            {
                d = Scale(flatGrad, -1);
                oldDirs.Clear(); oldSteps.Clear(); ro.Clear();
                hDiag = 1;
            }
            else d = Direction(flatGrad);
            prevFlatGrad = (double[])flatGrad.Clone();
            prevLoss = loss;
            t = Iterations == 1 ? Math.Min(1, 1 / flatGrad.Sum(Math.Abs)) * LearningRate : LearningRate;
            double gtd = Dot(flatGrad, d);
            if (gtd > -ToleranceChange) break;
            int lsEvals;
            bool optimal;
            if (LineSearchFn is not null)
            {
                var x0 = Read(variables);
                (loss, flatGrad, t, lsEvals) = StrongWolfe((x, step, dir) => Directional(closure, variables, x, step, dir),
                    x0, t, d, loss, flatGrad, gtd);
                AddScaled(variables, t, d);
                optimal = MaxAbs(flatGrad) <= ToleranceGrad;
            }
            else
            {
                AddScaled(variables, t, d);
                lsEvals = 0; optimal = false;
                if (nIter != MaxIter)
                {
                    (loss, flatGrad) = Evaluate(closure);
                    optimal = MaxAbs(flatGrad) <= ToleranceGrad;
                    lsEvals = 1;
                }
            }
            currentEvals += lsEvals; FunctionEvaluations += lsEvals;
            if (nIter == MaxIter || currentEvals >= MaxEval || optimal) break;
            if (MaxAbs(d) * Math.Abs(t) <= ToleranceChange) break;
            if (Math.Abs(loss - prevLoss) < ToleranceChange) break;
        }
        return origLoss;
    }

    /// <summary>The two-loop recursion after taking in the newest (s, y) pair.</summary>
    private double[] Direction(double[] flatGrad)
    {
        var y = Sub(flatGrad, prevFlatGrad!);
        var s = Scale(d!, t);
        double ys = Dot(y, s);
        if (ys > 1e-10)
        {
            if (oldDirs.Count == HistorySize) { oldDirs.RemoveAt(0); oldSteps.RemoveAt(0); ro.RemoveAt(0); }
            oldDirs.Add(y); oldSteps.Add(s); ro.Add(1 / ys);
            hDiag = ys / Dot(y, y);
        }
        int n = oldDirs.Count;
        var al = new double[n];
        var q = Scale(flatGrad, -1);
        for (int i = n - 1; i >= 0; i--)
        {
            al[i] = Dot(oldSteps[i], q) * ro[i];
            Axpy(-al[i], oldDirs[i], q);
        }
        var r = Scale(q, hDiag);
        for (int i = 0; i < n; i++)
        {
            double be = Dot(oldDirs[i], r) * ro[i];
            Axpy(al[i] - be, oldSteps[i], r);
        }
        return r;
    }

    private (double Loss, double[] Grad) Evaluate(Func<NDArray[]> closure)
    {
        var r = closure();
        if (parameters is null) throw new GraphException("LBFGS: the closure's function was not built with LBFGS.Closure(loss)");
        if (r.Length != sizes.Length + 1)
            throw new GraphException($"LBFGS: the closure returned {r.Length} values; it must return the loss and one gradient per parameter " +
                $"({sizes.Length}): build it with LBFGS.Closure(loss)");
        var grad = new double[total];
        int at = 0;
        for (int i = 0; i < sizes.Length; i++)
        {
            var g = r[i + 1];
            if (g.Size != sizes[i]) throw new GraphException($"LBFGS: gradient {i} has {g.Size} elements, '{names[i]}' {sizes[i]}");
            for (int j = 0; j < g.Size; j++) grad[at + j] = g.GetDouble(j);
            at += g.Size;
        }
        return (r[0].Item(), grad);
    }

    /// <summary>The loss and gradient at x + step·dir; the parameters are put back to x after.</summary>
    private (double, double[]) Directional(Func<NDArray[]> closure, VariableStore variables, double[] x, double step, double[] dir)
    {
        AddScaled(variables, step, dir);
        var result = Evaluate(closure);
        Write(variables, x);
        return result;
    }

    private double[] Read(VariableStore variables)
    {
        var x = new double[total];
        int at = 0;
        for (int i = 0; i < names.Length; i++)
        {
            var v = variables.Get(names[i]);
            for (int j = 0; j < v.Size; j++) x[at + j] = v.GetDouble(j);
            at += v.Size;
        }
        return x;
    }

    private void Write(VariableStore variables, double[] x)
    {
        int at = 0;
        for (int i = 0; i < names.Length; i++)
        {
            var old = variables.Get(names[i]);
            var v = NDArray.Zeros(old.DType, old.Shape);
            for (int j = 0; j < v.Size; j++) v.SetDouble(j, x[at + j]);
            variables.Set(names[i], v);
            at += v.Size;
        }
    }

    /// <summary>p += step·dir for every parameter (PyTorch's _add_grad).</summary>
    private void AddScaled(VariableStore variables, double step, double[] dir)
    {
        var x = Read(variables);
        Axpy(step, dir, x);
        Write(variables, x);
    }

    private static double Dot(double[] a, double[] b) { double s = 0; for (int i = 0; i < a.Length; i++) s += a[i] * b[i]; return s; }
    private static double MaxAbs(double[] a) { double m = 0; foreach (var v in a) m = Math.Max(m, Math.Abs(v)); return m; }
    private static double[] Scale(double[] a, double s) => [.. a.Select(v => v * s)];
    private static double[] Sub(double[] a, double[] b) => [.. a.Select((v, i) => v - b[i])];
    private static void Axpy(double alpha, double[] x, double[] y) { for (int i = 0; i < y.Length; i++) y[i] += alpha * x[i]; }

    /// <summary>PyTorch's _cubic_interpolate: the minimizer of the cubic through two points and slopes, within bounds.</summary>
    internal static double CubicInterpolate(double x1, double f1, double g1, double x2, double f2, double g2, (double Lo, double Hi)? bounds = null)
    {
        var (lo, hi) = bounds ?? (x1 <= x2 ? (x1, x2) : (x2, x1));
        double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
        double d2Square = d1 * d1 - g1 * g2;
        if (d2Square < 0) return (lo + hi) / 2;
        double d2 = Math.Sqrt(d2Square);
        double minPos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
            : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
        return Math.Min(Math.Max(minPos, lo), hi);
    }

    /// <summary>PyTorch's _strong_wolfe: a step length satisfying the strong Wolfe conditions (bracketing, then zoom).</summary>
    private (double F, double[] G, double T, int Evals) StrongWolfe(Func<double[], double, double[], (double, double[])> objective, double[] x,
        double t, double[] d, double f, double[] g, double gtd, double c1 = 1e-4, double c2 = 0.9, int maxLs = 25)
    {
        double dNorm = MaxAbs(d);
        var (fNew, gNew) = objective(x, t, d);
        int evals = 1;
        double gtdNew = Dot(gNew, d);
        double tPrev = 0, fPrev = f, gtdPrev = gtd;
        var gPrev = g;
        bool done = false;
        int lsIter = 0;
        double[] bt = [], bf = [], bgtd = [];
        double[][] bg = [];
        while (lsIter < maxLs)
        {
            if (fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev))
            {
                (bt, bf, bg, bgtd) = ([tPrev, t], [fPrev, fNew], [gPrev, gNew], [gtdPrev, gtdNew]);
                break;
            }
            if (Math.Abs(gtdNew) <= -c2 * gtd)
            {
                (bt, bf, bg) = ([t], [fNew], [gNew]);
                done = true;
                break;
            }
            if (gtdNew >= 0)
            {
                (bt, bf, bg, bgtd) = ([tPrev, t], [fPrev, fNew], [gPrev, gNew], [gtdPrev, gtdNew]);
                break;
            }
            double minStep = t + 0.01 * (t - tPrev), maxStep = t * 10, tmp = t;
            t = CubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, (minStep, maxStep));
            (tPrev, fPrev, gPrev, gtdPrev) = (tmp, fNew, gNew, gtdNew);
            (fNew, gNew) = objective(x, t, d);
            evals++;
            gtdNew = Dot(gNew, d);
            lsIter++;
        }
        if (lsIter == maxLs) (bt, bf, bg) = ([0, t], [f, fNew], [g, gNew]);

        bool insufficientProgress = false;
        int low = bf[0] <= bf[^1] ? 0 : 1, high = 1 - low;
        while (!done && lsIter < maxLs)
        {
            if (Math.Abs(bt[1] - bt[0]) * dNorm < ToleranceChange) break;
            t = CubicInterpolate(bt[0], bf[0], bgtd[0], bt[1], bf[1], bgtd[1]);
            double max = Math.Max(bt[0], bt[1]), min = Math.Min(bt[0], bt[1]), eps = 0.1 * (max - min);
            if (Math.Min(max - t, t - min) < eps)
            {
                if (insufficientProgress || t >= max || t <= min)
                {
                    t = Math.Abs(t - max) < Math.Abs(t - min) ? max - eps : min + eps;
                    insufficientProgress = false;
                }
                else insufficientProgress = true;
            }
            else insufficientProgress = false;
            (fNew, gNew) = objective(x, t, d);
            evals++;
            gtdNew = Dot(gNew, d);
            lsIter++;
            if (fNew > f + c1 * t * gtd || fNew >= bf[low])
            {
                (bt[high], bf[high], bg[high], bgtd[high]) = (t, fNew, gNew, gtdNew);
                low = bf[0] <= bf[1] ? 0 : 1; high = 1 - low;
            }
            else
            {
                if (Math.Abs(gtdNew) <= -c2 * gtd) done = true;
                else if (gtdNew * (bt[high] - bt[low]) >= 0)
                    (bt[high], bf[high], bg[high], bgtd[high]) = (bt[low], bf[low], bg[low], bgtd[low]);
                (bt[low], bf[low], bg[low], bgtd[low]) = (t, fNew, gNew, gtdNew);
            }
        }
        return (bf[low], bg[low], bt[low], evals);
    }
}
