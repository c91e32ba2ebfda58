namespace GraphNet;

/// <summary>Which ILGPU accelerator a session with the ILGPU backend runs on.</summary>
public enum AcceleratorKind
{
    /// <summary>The best present: CUDA, then OpenCL, then ILGPU's CPU accelerator.</summary>
    Auto,
    Cuda,
    OpenCL,
    /// <summary>ILGPU's CPU accelerator: simulates GPU threads on the CPU (slow; for tests and machines without a GPU).</summary>
    Cpu,
}
