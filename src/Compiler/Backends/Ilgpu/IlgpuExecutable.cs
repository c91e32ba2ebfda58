using GraphNet.Runtime.Devices;
using System.Diagnostics;
using System.Runtime.Loader;
using GraphNet.Compiler.Ilgpu;
using GraphNet.Runtime;
using ILGPU.Runtime;

namespace GraphNet.Compiler;

/// <summary>
/// Compiled ILGPU kernels on one accelerator. Buffers stay on the device between steps (made
/// once per batch size); so do variables (<see cref="DeviceVariables"/>). Feeds go up and
/// fetches come down each run. Library ops run the device library; reference ops (rare data
/// movement such as gather or concat) run on the host between kernels.
/// </summary>
public sealed class IlgpuExecutable : CompiledExecutable
{
    private readonly DeviceStep step;
    private readonly AssemblyLoadContext? context;
    private readonly Accelerator accelerator;
    private readonly DeviceVariables variables;
    private readonly DeviceLibrary library;
    private readonly DeviceContext ctx;
    private readonly RecentBatches<MemoryBuffer[]> slotsByBatch = new(Bytes, Dispose), feedsByBatch = new(Bytes, Dispose);
    private readonly MemoryBuffer[] constants;
    private MemoryBuffer[]? buffers;
    private Array?[]? hostArrays;
    private EvalContext evalContext = new();
    private long kernelStart;

    internal IlgpuExecutable(Compilation c, DeviceStep step, DeviceVariables variables) : base(c)
    {
        this.step = step; context = c.LoadContext; this.variables = variables;
        accelerator = variables.Accelerator;
        step.Load(accelerator); // ILGPU compiles each kernel for the accelerator here (the load stage's time)
        library = new DeviceLibrary(accelerator);
        ctx = new DeviceContext(accelerator) { CallKernel = Call };
        constants = Memory.Constants.Select(n => ((ConstantOp)n.Op).Value).Select(v =>
        {
            var b = DeviceBuffers.Allocate(accelerator, v.DType, v.Size);
            DeviceBuffers.Upload(b, v.Data);
            return b;
        }).ToArray();
    }

    /// <summary>The accelerator the kernels run on.</summary>
    public Accelerator Accelerator => accelerator;

    /// <summary>Use the shared-memory tiled GEMM (the GPU default) or the register-blocked one (the CPU accelerator's).</summary>
    public bool UseTiledGemm { get => library.UseTiledGemm; set => library.UseTiledGemm = value; }

    internal override AssemblyLoadContext? LoadContext => context;

    /// <summary>The generated kernel methods (all implicitly grouped), for compiling them to PTX in tests.</summary>
    public IReadOnlyList<System.Reflection.MethodInfo> KernelMethods => step.GetType()
        .GetMethods(System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)
        .Where(m => m.GetParameters() is [{ ParameterType.Name: "Index1D" }, _]).ToList();

    protected override void UpdateHooks()
    {
        var p = Profiler; bool check = CheckNumerics;
        ctx.OnBegin = p is null ? null : k => { accelerator.Synchronize(); kernelStart = Stopwatch.GetTimestamp(); };
        ctx.OnEnd = p is null && !check ? null : k =>
        {
            accelerator.Synchronize();
            p?.Add(this, k, ctx.Batch, kernelStart, Stopwatch.GetTimestamp());
            if (check) CheckKernel(k);
        };
    }

    private protected override (Array Data, int Count) OutputValues(Tensor o)
    {
        var value = DeviceBuffers.Download(ctx.B[Buffers.IndexOf(o)], o.DType, o.Shape.Resolve(ctx.Batch));
        return (value.Data, value.Size);
    }

    public override NDArray[] Run(IReadOnlyDictionary<Tensor, NDArray> feeds, VariableStore store, EvalContext eval)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        int batch = FeedCheck.Validate(UserFeeds, feeds) ?? 1;
        var b = buffers ??= new MemoryBuffer[Buffers.Count]; // refilled every run
        var host = hostArrays ??= new Array?[b.Length];

        // Feeds: one device buffer per feed and batch size, filled each run.
        // A step's kernels have finished when Run returns (it synchronizes), so an evicted size's buffers are free.
        var feedBuffers = feedsByBatch.Get(batch, n => Memory.Feeds.Select(f => DeviceBuffers.Allocate(accelerator, f.OutputTypes[0].DType,
            f.OutputTypes[0].Shape.StaticSize * (f.OutputTypes[0].Shape.IsSymbolic ? n : 1))).ToArray());
        for (int i = 0; i < Memory.Feeds.Count; i++)
        {
            var value = FeedValue(i, feeds);
            host[i] = value.Data;
            DeviceBuffers.Upload(feedBuffers[i], value.Data);
            b[i] = feedBuffers[i];
        }
        for (int i = 0; i < Memory.Variables.Count; i++)
        {
            var v = (VariableOp)Memory.Variables[i].Op;
            b[Buffers.VariableBase + i] = variables.Current(v.VarName, v.Type);
        }
        for (int i = 0; i < constants.Length; i++)
        {
            b[Buffers.ConstantBase + i] = constants[i];
            host[Buffers.ConstantBase + i] = ((ConstantOp)Memory.Constants[i].Op).Value.Data;
        }
        var slots = slotsByBatch.Get(batch, n => Memory.Slots.Select(s => DeviceBuffers.Allocate(accelerator, s.DType, s.Elements(n))).ToArray());
        Array.Copy(slots, 0, b, Buffers.SlotBase, slots.Length);
        foreach (var a in Assignments) b[Buffers.NextBase + a.Variable] = variables.Next(a.Name);

        ctx.Batch = batch; ctx.B = b; ctx.Host = host; ctx.RunCounter = eval.RunCounter; ctx.GraphSeed = eval.GraphSeed;
        evalContext = eval;
        try
        {
            step.Run(ctx);
            accelerator.Synchronize();
        }
        catch (GraphException) { throw; }
        catch (Exception e) { throw new GraphException(DescribeFailure(e), e); }

        var results = Unit.Fetches.Select(f => DeviceBuffers.Download(b[Buffers.IndexOf(f)], f.DType, f.Shape.Resolve(batch))).ToArray();
        foreach (var (name, vi, value, storage, type) in Assignments)
        {
            if (!(storage.Kind == StorageKind.VariableNext && storage.Index == vi))
                DeviceBuffers.Copy(b[Buffers.IndexOf(storage)], b[Buffers.NextBase + vi], type.DType, type.Shape.StaticSize);
            variables.Commit(name);
        }
        return results;
    }

    private ILGPU.ArrayView<float> F32(Tensor t) => DeviceBuffers.View<float>(ctx.B[Buffers.IndexOf(t)]);

    /// <summary>A library or reference kernel, called from generated code.</summary>
    private void Call(int k)
    {
        var anchor = Kernels[k].Anchor!;
        try
        {
            int[] S(int i) => anchor.Inputs[i].Shape.Resolve(ctx.Batch);
            var y = anchor.Outputs[0];
            int[] ys = y.Shape.Resolve(ctx.Batch);
            // The device library is float32's; a float64 library op runs on the host below (its GEMM-based kernel).
            if (NodeClasses.Of(anchor) == NodeClass.Library && anchor.Inputs[0].DType == DType.Float32)
                switch (anchor.Op)
                {
                    case MatMulOp m: library.MatMul(m, S(0), S(1), F32(anchor.Inputs[0]), F32(anchor.Inputs[1]), F32(y)); return;
                    case Conv2dOp c: library.Conv2d(c.P, S(0), S(1), ys, F32(anchor.Inputs[0]), F32(anchor.Inputs[1]), F32(y)); return;
                    case ConvTranspose2dOp t: library.ConvTranspose2d(t.P, S(0), S(1), ys, F32(anchor.Inputs[0]), F32(anchor.Inputs[1]), F32(y)); return;
                    case Conv2dFilterGradOp f: library.FilterGrad(f, S(0), S(1), F32(anchor.Inputs[0]), F32(anchor.Inputs[1]), F32(y)); return;
                    case Pool2dOp p: library.Pool2d(p.P, S(0), ys, F32(anchor.Inputs[0]), F32(y)); return;
                    case Pool2dGradOp g: library.Pool2dGrad(g.P, S(0), S(1), F32(anchor.Inputs[0]), F32(anchor.Inputs[1]), F32(y)); return;
                    case SoftmaxOp s: library.Softmax(s, S(0), F32(anchor.Inputs[0]), F32(y)); return;
                }
            // Reference evaluation on the host: inputs down, the op's reference code, the output up.
            accelerator.Synchronize();
            var inputs = anchor.Inputs.Select((t, i) => DeviceBuffers.Download(ctx.B[Buffers.IndexOf(t)], t.DType, S(i))).ToArray();
            if (anchor.Op is ScanOp)
            {
                // The body runs as compiled device kernels, its steps' values passing through the host.
                var outs = RunScan(anchor, inputs, null, evalContext);
                for (int i = 0; i < outs.Length; i++) DeviceBuffers.Upload(ctx.B[Buffers.IndexOf(anchor.Outputs[i])], outs[i].Data);
                return;
            }
            var output = Runtime.Kernels.Library.Evaluate(anchor, inputs, evalContext)[0];
            DeviceBuffers.Upload(ctx.B[Buffers.IndexOf(y)], output.Data);
        }
        catch (Exception e) when (e is not GraphRunException) { throw new GraphRunException(anchor, e); }
    }

    internal override int BatchSizesKept => slotsByBatch.Count;

    private static long Bytes(MemoryBuffer[] buffers) => buffers.Sum(b => b.LengthInBytes);

    private static void Dispose(MemoryBuffer[] buffers)
    {
        foreach (var b in buffers) b.Dispose();
    }

    private protected override void ReleaseBackend()
    {
        accelerator.Synchronize();
        foreach (var buffers in slotsByBatch.Values.Concat(feedsByBatch.Values).Append(constants))
            foreach (var b in buffers) b.Dispose();
        library.Dispose();
        context?.Unload();
    }
}
