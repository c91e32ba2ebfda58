using System.Reflection;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace GraphNet.Runtime.Devices;

/// <summary>
/// The process's ILGPU context and one accelerator per kind, made on first use and shared by
/// every session (creating an accelerator costs far more than a step).
/// </summary>
public static class Devices
{
    private static readonly object Gate = new();
    private static Context? context;
    private static readonly Dictionary<AcceleratorType, Accelerator> Accelerators = [];

    // EnableAlgorithms: MathF.Exp and friends have no CUDA/OpenCL implementation in ILGPU's core.
    private static Context Context => context ??= Context.Create(b => b.Default().EnableAlgorithms().Optimize(OptimizationLevel.O1));

    /// <summary>The accelerators present on this machine, as "cuda: NVIDIA H200" lines.</summary>
    public static IReadOnlyList<string> Present()
    {
        lock (Gate) return Context.Devices.Select(d => $"{Name(d.AcceleratorType)} ({d.Name})").ToList();
    }

    /// <summary>The shared accelerator of a kind; a clear error names those present when it is absent.</summary>
    public static Accelerator Get(AcceleratorKind kind)
    {
        lock (Gate)
        {
            var devices = Context.Devices;
            Device? device = kind switch
            {
                AcceleratorKind.Auto => devices.FirstOrDefault(d => d.AcceleratorType == AcceleratorType.Cuda)
                    ?? devices.FirstOrDefault(d => d.AcceleratorType == AcceleratorType.OpenCL)
                    ?? devices.FirstOrDefault(d => d.AcceleratorType == AcceleratorType.CPU),
                AcceleratorKind.Cuda => devices.FirstOrDefault(d => d.AcceleratorType == AcceleratorType.Cuda),
                AcceleratorKind.OpenCL => devices.FirstOrDefault(d => d.AcceleratorType == AcceleratorType.OpenCL),
                _ => devices.FirstOrDefault(d => d.AcceleratorType == AcceleratorType.CPU),
            };
            if (device is null)
                throw new GraphException($"the ILGPU accelerator '{kind.ToString().ToLowerInvariant()}' is not present on this machine; present: "
                    + string.Join(", ", devices.Select(d => $"{Name(d.AcceleratorType)} ({d.Name})"))
                    + ". Choose one of those with SessionOptions.Accelerator (Auto picks the best present), or use Backend.CSharp"
                    + (kind == AcceleratorKind.Cuda ? "; CUDA needs an NVIDIA GPU with its driver installed" : ""));
            if (!Accelerators.TryGetValue(device.AcceleratorType, out var accelerator))
                Accelerators[device.AcceleratorType] = accelerator = device.CreateAccelerator(Context);
            return accelerator;
        }
    }

    /// <summary>Threads to launch for a grid-strided kernel over size elements: no more than the device runs at once.</summary>
    public static int Extent(Accelerator accelerator, long size) => (int)Math.Max(1, Math.Min(size, accelerator.MaxNumThreads));

    public static string Name(AcceleratorType t) => t switch
    {
        AcceleratorType.Cuda => "cuda", AcceleratorType.OpenCL => "opencl", AcceleratorType.CPU => "cpu", _ => t.ToString().ToLowerInvariant(),
    };

    /// <summary>Parses "auto", "cuda", "opencl" or "cpu" (command-line options).</summary>
    public static AcceleratorKind Parse(string s) => s.ToLowerInvariant() switch
    {
        "auto" => AcceleratorKind.Auto, "cuda" => AcceleratorKind.Cuda, "opencl" => AcceleratorKind.OpenCL, "cpu" => AcceleratorKind.Cpu,
        _ => throw new ArgumentException($"unknown accelerator '{s}': use auto, cuda, opencl or cpu"),
    };

    /// <summary>
    /// Compiles a kernel method to PTX for a CUDA architecture without a GPU (ILGPU's PTX
    /// backend runs on the CPU), so machines without one still check that every kernel compiles
    /// for CUDA. Returns the PTX assembly. Default: SM_90 (H100/H200).
    /// </summary>
    public static string CompileToPtx(MethodInfo kernel, bool explicitlyGrouped, string architecture = "SM_90")
    {
        lock (Gate)
        {
            var arch = (CudaArchitecture)(typeof(CudaArchitecture).GetField(architecture)?.GetValue(null)
                ?? throw new ArgumentException($"unknown CUDA architecture '{architecture}'"));
            var isa = CudaInstructionSet.ISA_85;
            var backend = ptxBackends.TryGetValue(architecture, out var b) ? b
                : ptxBackends[architecture] = new PTXBackend(Context, new CudaCapabilityContext(arch), arch, isa, null!);
            var entry = explicitlyGrouped ? EntryPointDescription.FromExplicitlyGroupedKernel(kernel) : EntryPointDescription.FromImplicitlyGroupedKernel(kernel);
            var specialization = new KernelSpecialization();
            return ((PTXCompiledKernel)backend.Compile(entry, specialization)).PTXAssembly;
        }
    }

    private static readonly Dictionary<string, PTXBackend> ptxBackends = [];
}
