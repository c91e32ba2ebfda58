using System.Diagnostics;
using GraphNet.Compiler.Passes;

namespace GraphNet.Compiler;

/// <summary>
/// The compiler pipeline, top to bottom. Graph passes come first; fusion, lowering, memory
/// planning and code generation follow in <c>Compilation</c>.
/// </summary>
public static class Pipeline
{
    public static IReadOnlyList<Pass> GraphPasses { get; } =
    [
        new PruneToFetches(),            // 1. keep what the fetches need
        new ConstantFolding(),           // 2. simplify: fold constants,
        new AlgebraicSimplification(),   //    apply algebraic rules,
        new CommonSubexpressions(),      //    merge repeated work,
        new DeadCodeElimination(),       //    drop what became unused
    ];
    // 3. fuse (Fusion), 4. lower to kernels (Lowering), 5. plan memory (MemoryPlanner),
    // 6. generate C# and compile (CSharpBackend, CompileCache).

    /// <summary>Runs the graph passes; with checks on, verifies the unit after each.</summary>
    public static Unit RunGraphPasses(Unit unit, bool verify, Action<Pass, Unit, TimeSpan>? afterEach = null)
    {
        if (verify) Verifier.Verify(unit, "input");
        foreach (var pass in GraphPasses)
        {
            var sw = Stopwatch.StartNew();
            unit = pass.Run(unit);
            afterEach?.Invoke(pass, unit, sw.Elapsed);
            if (verify) Verifier.Verify(unit, pass.Name);
        }
        return unit;
    }
}
