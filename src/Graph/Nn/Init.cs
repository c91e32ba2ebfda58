namespace GraphNet.Nn;

/// <summary>
/// torch.nn.init's initializers, for a layer's weightInit and biasInit arguments or any variable.
/// Draws come from the graph's counter-based generator (keyed by the variable's name), so values
/// differ from PyTorch's for the same seed; the distributions are PyTorch's.
/// </summary>
public static class Init
{
    public static Initializer Uniform(double a = 0, double b = 1) => Initializer.Uniform(a, b);
    public static Initializer Normal(double mean = 0, double std = 1) => Initializer.Normal(mean, std);
    public static Initializer Constant(double value) => Initializer.Constant(value);
    public static Initializer Zeros => Initializer.Zeros;
    public static Initializer Ones => Initializer.Ones;
    public static Initializer XavierUniform(double gain = 1) => new XavierInit(false, gain);
    public static Initializer XavierNormal(double gain = 1) => new XavierInit(true, gain);
    public static Initializer KaimingUniform(double a = 0, string mode = "fan_in", string nonlinearity = "leaky_relu") =>
        new KaimingInit(false, a, mode, nonlinearity);
    public static Initializer KaimingNormal(double a = 0, string mode = "fan_in", string nonlinearity = "leaky_relu") =>
        new KaimingInit(true, a, mode, nonlinearity);
    public static Initializer Orthogonal(double gain = 1) => new OrthogonalInit(gain);

    /// <summary>torch.nn.init.calculate_gain.</summary>
    public static double CalculateGain(string nonlinearity, double param = 0.01) => Fans.Gain(nonlinearity, param);
}
