using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using GraphNet.Runtime;
using GraphNet.Runtime.Kernels;

namespace GraphNet.Compiler.Backends.CSharp;

/// <summary>
/// Compiled C# for the CPU: holds the generated step (in a collectible load context, unloaded on
/// Dispose) and the buffers, which are made once per batch size and reused.
/// </summary>
internal sealed class CpuExecutable : CompiledExecutable
{
    private readonly CompiledStep step;
    private readonly AssemblyLoadContext? context;
    private readonly RecentBatches<Array[]> slotsByBatch = new(slots => slots.Sum(a => (long)Buffer.ByteLength(a)));
    private readonly Array?[] nextBuffers;
    private readonly StepContext ctx = new();
    private readonly (Node Anchor, int Output)[] calls;

    internal CpuExecutable(Compilation c, CompiledStep step, bool ownsCode = true) : base(c)
    {
        this.step = step; compilation = c; context = ownsCode ? c.LoadContext : null;
        nextBuffers = new Array?[Memory.Variables.Count];
        // A call that applies absorbed epilogue nodes writes their result (in the anchor's buffer, as a rule).
        calls = Kernels.Select(k => k.Anchor is { } a && NodeClasses.Of(a) is NodeClass.Library or NodeClass.Reference
            ? (a, Buffers.IndexOf(k.Absorbed?.Result ?? a.Outputs[0])) : (null!, -1)).ToArray();
        sites = new CallSite?[calls.Length];
        ctx.CallKernel = Call;
        // A fetch alone in a slot of its own size can be computed straight into a caller's array.
        var fetchIndex = Unit.Fetches.Select(Buffers.IndexOf).ToArray();
        directFetch = Unit.Fetches.Select((f, i) => Memory.StorageOf[MemoryPlan.Root(f)] is { Kind: StorageKind.Slot } st
            && st.StaticSize == f.Shape.StaticSize && st.Symbolic == f.Shape.IsSymbolic && fetchIndex.Count(x => x == fetchIndex[i]) == 1
            ? fetchIndex[i] : -1).ToArray();
    }

    private readonly Compilation compilation;

    /// <summary>
    /// Another instance of the same code with buffers of its own, to run on another thread at
    /// the same time; it shares the generated assembly, which this instance alone unloads.
    /// </summary>
    internal override CompiledExecutable Fork()
    {
        var fork = new CpuExecutable(compilation, step, ownsCode: false);
        fork.stillFeeds.UnionWith(stillFeeds);
        return fork;
    }

    /// <summary>
    /// The buffers of feeds that hold still for a whole scan run (its captures: the weights): a
    /// matmul by one packs it once a run (see <see cref="Gemm.PackedB"/>) instead of every step.
    /// </summary>
    private readonly HashSet<int> stillFeeds = [];
    private int scanRun;

    internal override void HoldStill(IEnumerable<Tensor> feeds)
    {
        var held = feeds.ToHashSet();
        for (int i = 0; i < Memory.Feeds.Count; i++)
            if (FeedSources[i] >= 0 && held.Contains(UserFeeds[FeedSources[i]])) stillFeeds.Add(i);
    }

    internal override void BeginScanRun() => scanRun++;

    internal override int PackedMatMuls => sites.Count(s => s?.Packed is not null);

    /// <summary>For each fetch, its buffer index where <see cref="RunInto"/> may lend it the caller's array, else −1.</summary>
    private readonly int[] directFetch;

    internal override int BatchSizesKept => slotsByBatch.Count;

    /// <summary>The collectible context holding the generated assembly (tests check that it unloads).</summary>
    internal override AssemblyLoadContext? LoadContext => context;

    protected override void UpdateHooks()
    {
        var p = Profiler; bool check = CheckNumerics;
        ctx.OnKernel = p is null && !check ? null : (k, s, e) =>
        {
            p?.Add(this, k, ctx.Batch, s, e);
            if (check) CheckKernel(k);
        };
    }

    private protected override (Array Data, int Count) OutputValues(Tensor o) =>
        (ctx.B[Buffers.IndexOf(o)], (int)(o.Shape.StaticSize * (o.Shape.IsSymbolic ? ctx.Batch : 1)));

    public override NDArray[] Run(IReadOnlyDictionary<Tensor, NDArray> feeds, VariableStore variables, EvalContext eval) =>
        Execute(feeds, variables, eval, null);

    public override void RunInto(IReadOnlyDictionary<Tensor, NDArray> feeds, VariableStore variables, EvalContext eval, NDArray[] into) =>
        Execute(feeds, variables, eval, into);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private NDArray[] Execute(IReadOnlyDictionary<Tensor, NDArray> feeds, VariableStore variables, EvalContext eval, NDArray[]? into)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        int batch = FeedCheck.Validate(UserFeeds, feeds) ?? 1;
        var b = buffers ??= new Array[Buffers.Count]; // refilled every run: feeds and variables change
        for (int i = 0; i < Memory.Feeds.Count; i++) b[i] = FeedValue(i, feeds).Data;
        for (int i = 0; i < Memory.Variables.Count; i++)
            b[Buffers.VariableBase + i] = variables.Get(((VariableOp)Memory.Variables[i].Op).VarName).Data;
        for (int i = 0; i < Memory.Constants.Count; i++)
            b[Buffers.ConstantBase + i] = ((ConstantOp)Memory.Constants[i].Op).Value.Data;
        var slots = slotsByBatch.Get(batch, n => Memory.Slots.Select(s => Array.CreateInstance(ClrType(s.DType), s.Elements(n))).ToArray());
        Array.Copy(slots, 0, b, Buffers.SlotBase, slots.Length);
        // The caller's arrays (a scan's next carries and step outputs, never read by this step) as the fetches' own slots.
        if (into is not null)
            for (int i = 0; i < into.Length; i++)
                if (directFetch[i] >= 0 && b[directFetch[i]].Length == into[i].Size) b[directFetch[i]] = into[i].Data;
        for (int i = 0; i < nextBuffers.Length; i++)
        {
            var type = Memory.Variables[i].OutputTypes[0];
            b[Buffers.NextBase + i] = nextBuffers[i] ??= Array.CreateInstance(ClrType(type.DType), (int)type.Shape.StaticSize);
        }

        ctx.Batch = batch; ctx.B = b; ctx.RunCounter = eval.RunCounter; ctx.GraphSeed = eval.GraphSeed;
        evalContext = eval;
        ctx.Current = -1;
        try { step.Run(ctx); }
        catch (GraphRunException) { throw; }
        catch (NonFiniteException) { throw; }
        catch (Exception e) { throw new GraphException(DescribeFailure(e, ctx.Current), e); }

        NDArray[] results;
        if (into is null) results = Unit.Fetches.Select(f => Value(f, b, batch).Clone()).ToArray();
        else
        {
            for (int i = 0; i < into.Length; i++)
            {
                var data = b[Buffers.IndexOf(Unit.Fetches[i])];
                if (!ReferenceEquals(data, into[i].Data)) Array.Copy(data, into[i].Data, into[i].Size);
            }
            results = into;
        }
        // Assignments: swap in the second buffer the kernel wrote, or copy a value from elsewhere.
        foreach (var (name, vi, value, storage, type) in Assignments)
        {
            if (storage.Kind == StorageKind.VariableNext && storage.Index == vi)
            {
                var old = variables.Get(name).Data;
                variables.Set(name, new NDArray(type.DType, type.Shape.ToArray(), b[Buffers.NextBase + vi]));
                nextBuffers[vi] = old;
            }
            else variables.Set(name, Value(value, b, batch).Clone());
        }
        return results;
    }

    private EvalContext evalContext = new();
    private Array[]? buffers;

    private NDArray Value(Tensor t, Array[] b, int batch) => new(t.DType, t.Shape.Resolve(batch), b[Buffers.IndexOf(t)]);

    /// <summary>
    /// A library or reference call's arguments, kept between calls: an unrolled LSTM makes
    /// hundreds of these a step (slices, concatenations, GEMMs), and building the argument arrays
    /// afresh each time (buffer lookups, shapes, wrappers) cost more than many of the copies.
    /// A wrapper is remade when its buffer changed (feeds and swapped variables) or the batch did.
    /// </summary>
    private sealed class CallSite(int[] inputIndex, int biasIndex)
    {
        public readonly int[] InputIndex = inputIndex;
        public readonly NDArray?[] Inputs = new NDArray?[inputIndex.Length];
        /// <summary>An absorbed bias add's bias (see <see cref="LibraryEpilogues"/>): its buffer index (−1: none) and wrapper.</summary>
        public readonly int BiasIndex = biasIndex;
        public NDArray? Bias;
        public NDArray? Into;
        public int Batch = -1;
        /// <summary>A matmul by a feed that holds still: its right operand packed, and the scan run and array it was packed from.</summary>
        public Gemm.PackedB? Packed;
        public int PackedRun = -1;
        public Array? PackedFrom;
    }

    private readonly CallSite?[] sites;

    /// <summary>
    /// A library or reference kernel, called from generated code: through the library dispatcher, else the op's
    /// reference evaluation.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Call(int k)
    {
        var (anchor, output) = calls[k];
        var absorbed = Kernels[k].Absorbed;
        var site = sites[k] ??= NewSite(anchor, absorbed);
        try
        {
            Array[] b = ctx.B; int batch = ctx.Batch;
            if (site.Batch != batch) { Array.Clear(site.Inputs); site.Into = null; site.Batch = batch; }
            var inputs = site.Inputs;
            for (int i = 0; i < inputs.Length; i++)
            {
                var data = b[site.InputIndex[i]];
                if (!ReferenceEquals(inputs[i]?.Data, data))
                    inputs[i] = new NDArray(anchor.Inputs[i].DType, anchor.Inputs[i].Shape.Resolve(batch), data);
            }
            if (anchor.Op is ScanOp)
            {
                var outs = anchor.Outputs.Select(o => new NDArray(o.DType, o.Shape.Resolve(batch), b[Buffers.IndexOf(o)])).ToArray();
                RunScan(anchor, inputs!, outs, evalContext);
                return;
            }
            if (!ReferenceEquals(site.Into?.Data, b[output]))
                site.Into = new NDArray(anchor.OutputTypes[0].DType, anchor.OutputTypes[0].Shape.Resolve(batch), b[output]);
            if (site.Packed is { } packed)
            {
                var mm = (MatMulOp)anchor.Op;
                if (site.PackedRun != scanRun || !ReferenceEquals(site.PackedFrom, b[site.InputIndex[1]]))
                {
                    MatMul.PackRight(inputs[1]!, mm, packed);
                    (site.PackedRun, site.PackedFrom) = (scanRun, b[site.InputIndex[1]]);
                }
                MatMul.ForwardPacked(inputs[0]!, packed, mm, site.Into);
                return;
            }
            if (absorbed is null) { Library.Evaluate(anchor, inputs!, evalContext, site.Into); return; }
            if (site.BiasIndex >= 0 && !ReferenceEquals(site.Bias?.Data, b[site.BiasIndex]))
                site.Bias = new NDArray(DType.Float32, absorbed.Bias!.Shape.Resolve(batch), b[site.BiasIndex]);
            Library.Conv2dWithEpilogue(anchor, inputs!, site.Into, site.Bias, absorbed.Relu);
        }
        catch (Exception e) when (e is not GraphRunException) { throw new GraphRunException(anchor, e); }
    }

    private CallSite NewSite(Node anchor, AbsorbedEpilogue? absorbed)
    {
        var site = new CallSite(anchor.Inputs.Select(Buffers.IndexOf).ToArray(), absorbed?.Bias is { } bias ? Buffers.IndexOf(bias) : -1);
        if (absorbed is null && anchor.Op is MatMulOp mm && MatMul.CanPack(mm, anchor.Inputs[0].Type, anchor.Inputs[1].Type)
            && stillFeeds.Contains(site.InputIndex[1]))
            site.Packed = new Gemm.PackedB();
        return site;
    }

    /// <summary>Unloads the generated code.</summary>
    private protected override void ReleaseBackend() => context?.Unload();
}
