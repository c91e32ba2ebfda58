namespace GraphNet.Compiler;

/// <summary>
/// A named stage of the compiler (<see cref="Pipeline"/> lists them in order): it reads what
/// earlier stages left in the <see cref="Compilation"/> and adds its own result; with checks on,
/// it verifies that result; and it says what of it goes into the dump folder.
/// </summary>
public abstract class Stage
{
    public abstract string Name { get; }

    public abstract void Run(Compilation c);

    /// <summary>Whether the stage runs when the plan came from the compile cache (see <see cref="Restore"/>); most are skipped.</summary>
    public virtual bool RunsOnRestore => false;

    /// <summary>Checks what <see cref="Run"/> made (on in tests: SessionOptions.VerifyPasses).</summary>
    public virtual void Verify(Compilation c) { }

    /// <summary>Files for the dump folder, as (extension or name, text); the pipeline numbers them by stage.</summary>
    public virtual IEnumerable<(string File, Func<string> Text)> Dump(Compilation c) => [];

    public override string ToString() => Name;
}
