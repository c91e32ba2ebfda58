namespace GraphNet.Compiler;

/// <summary>The work of one kernel run: floating-point operations and the bytes it must move.</summary>
public readonly record struct Cost(double Flops, double Bytes)
{
    /// <summary>FLOPs per byte: above the machine's peak over its bandwidth, a kernel is compute-bound.</summary>
    public double Intensity => Bytes > 0 ? Flops / Bytes : double.PositiveInfinity;

    public static Cost operator +(Cost a, Cost b) => new(a.Flops + b.Flops, a.Bytes + b.Bytes);
}

/// <summary>
/// Counts each kernel's FLOPs and bytes at a batch size, for the profiler's achieved GFLOP/s and
/// GB/s against the machine's limits (<see cref="Runtime.MachineLimits"/>). FLOPs: a multiply-add is
/// two (GEMM 2·M·N·K, a convolution 2 per output and filter tap), every other elementwise function
/// one per element (exp and tanh too), a reduction one per input element, softmax four. Bytes:
/// the compulsory traffic, every tensor the kernel reads from outside once and every output once;
/// what a library kernel packs or re-reads from cache is not counted, so GB/s is a lower bound.
/// </summary>
public static class KernelCost
{
    public static Cost Of(Kernel k, int batch)
    {
        var nodes = k.Nodes.ToList();
        var made = nodes.SelectMany(n => n.Outputs).ToHashSet();
        double flops = nodes.Sum(n => Flops(n, batch));
        var read = nodes.SelectMany(n => n.Inputs).Where(t => !made.Contains(t));
        return new Cost(flops, Bytes(read.Concat(k.Outputs).Distinct().Select(t => t.Type), batch));
    }

    /// <summary>One node run on its own (by the interpreter or in eager mode): its FLOPs, its inputs read and outputs written.</summary>
    public static Cost Of(Node n, int batch) => new(Flops(n, batch), Bytes(n.Inputs.Select(t => t.Type).Concat(n.OutputTypes), batch));

    private static double Bytes(IEnumerable<TensorType> types, int batch) => types.Sum(t => (double)t.Shape.Elements(batch) * t.DType.SizeInBytes());

    /// <summary>The kernels' total: a step's work.</summary>
    public static Cost Of(IEnumerable<Kernel> kernels, int batch) => kernels.Aggregate(default(Cost), (s, k) => s + Of(k, batch));

    /// <summary>A node's floating-point operations at the batch size.</summary>
    public static double Flops(Node n, int batch)
    {
        double Out() => n.OutputTypes[0].Shape.Elements(batch);
        double In(int i) => n.Inputs[i].Shape.Elements(batch);
        double PerFilter(Tensor w) => (double)w.Shape.Elements(batch) / Math.Max(1, w.Shape[0]); // taps × channels of one filter
        return n.Op switch
        {
            MatMulOp => 2 * In(0) * Math.Max(1, n.OutputTypes[0].Shape[^1]),
            Conv2dOp => 2 * Out() * PerFilter(n.Inputs[1]),
            ConvTranspose2dOp => 2 * In(0) * PerFilter(n.Inputs[1]),
            Conv2dFilterGradOp => 2 * In(1) * Out() / Math.Max(1, n.OutputTypes[0].Shape[0]),
            Pool2dOp p => Out() * p.P.Kernel[0] * p.P.Kernel[1],
            Pool2dGradOp p => In(1) * p.P.Kernel[0] * p.P.Kernel[1],
            ReduceOp or ArgMaxOp => In(0),
            SoftmaxOp => 4 * Out(),
            UnaryOp or BinaryOp or CompareOp or WhereOp or DropoutOp or RandomOp => Out(),
            ScanOp s => Shape.SizeOf(s.Length, batch) * s.Body.Schedule.Sum(b => Flops(b, batch)),
            _ => 0,
        };
    }
}
