using GraphNet.Runtime;

namespace GraphNet.Compiler.Backends.Interpreter;

/// <summary>
/// The reference backend: every node of the plan through the runtime's interpreter (library kernels, else the
/// op's reference evaluation). Nothing is compiled.
/// </summary>
internal sealed class InterpreterBackend : Backend
{
    public override string Name => "interpreter";

    internal override BackendSession Open(Session session) => new InterpreterSession();

    private sealed class InterpreterSession : BackendSession
    {
        public override Executable Prepare(Session session, RunPlan plan) => new InterpretedExecutable(plan);
    }
}

/// <summary>A run signature interpreted node by node; variable writes are committed when every node has run.</summary>
internal sealed class InterpretedExecutable(RunPlan plan) : Executable
{
    public override NDArray[] Run(IReadOnlyDictionary<Tensor, NDArray> feeds, VariableStore variables, EvalContext eval) =>
        Runtime.Interpreter.Run(plan, feeds, variables, eval, CheckNumerics, Profiler is { } p ? p.Add : null);
}
