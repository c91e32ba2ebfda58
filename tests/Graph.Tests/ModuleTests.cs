using GraphNet.Nn;

namespace GraphNet.Tests;

/// <summary>PyTorch-style modules: names from fields, containers, parameters and modes, as torch.nn has them.</summary>
public class ModuleTests
{
    private sealed class Net : Module
    {
        private readonly Conv2d conv1 = new(1, 4, 3);
        private readonly BatchNorm2d _bn1 = new(4);
        private readonly Sequential main = new(new Linear(4 * 6 * 6, 8), new ReLU(), new Dropout(0.5), new Linear(8, 3));
        public ModuleList<Linear> Heads { get; } = new(new Linear(3, 2), new Linear(3, 2, bias: false));

        public override Tensor Forward(Tensor x)
        {
            var y = main.Forward(F.Flatten(F.Relu(_bn1.Forward(conv1.Forward(x)))));
            return Heads[0].Forward(y) + Heads[1].Forward(y);
        }
    }

    private static readonly string[] NetParameters = ["conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias",
        "main.0.weight", "main.0.bias", "main.3.weight", "main.3.bias", "Heads.0.weight", "Heads.0.bias", "Heads.1.weight"];

    private static Tensor Input(Graph g) => g.Placeholder([-1, 1, 8, 8], "x");

    [Fact]
    public void FieldsNameTheParametersAsPyTorchsStateDictDoes()
    {
        var g = new Graph();
        var net = new Net();
        Assert.False(net.IsBound);
        var y = net.Forward(Input(g));
        Assert.Equal(2, y.Shape[1]);
        Assert.Equal(NetParameters, net.NamedParameters().Select(p => p.Name));
        Assert.Equal(["bn1.running_mean", "bn1.running_var"], net.NamedBuffers().Select(b => b.Name));
        // PyTorch's state_dict order: a module's parameters, then its buffers, then its children's.
        Assert.Equal(["conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
            "main.0.weight", "main.0.bias", "main.3.weight", "main.3.bias", "Heads.0.weight", "Heads.0.bias", "Heads.1.weight"],
            net.StateDict().Select(e => e.Name));
        // The graph's variables carry the same names, with their shapes and trainability.
        Assert.Equal(net.StateDict().Select(e => e.Name), g.Variables.Select(v => ((VariableOp)v.Op).VarName));
        Assert.Equal("[8,144]", g.GetVariable("main.0.weight").Shape.ToString());
        Assert.Equal(NetParameters, g.TrainableVariables.Select(v => ((VariableOp)v.Node.Op).VarName));
        Assert.Equal(net.Parameters(), net.NamedParameters().Select(p => p.Parameter));
        // Each module's nodes are under its path's scope.
        Assert.Contains(g.Nodes, n => n.Name.StartsWith("main/0/"));
    }

    [Fact]
    public void SubmodulesListTheirOwnParametersByTheirOwnPaths()
    {
        var g = new Graph();
        var net = new Net();
        net.Forward(Input(g));
        var (_, main) = net.NamedModules().Single(m => m.Name == "main");
        Assert.Equal(["0.weight", "0.bias", "3.weight", "3.bias"], main.NamedParameters().Select(p => p.Name));
        Assert.Equal(["", "conv1", "bn1", "main", "main.0", "main.1", "main.2", "main.3", "Heads", "Heads.0", "Heads.1"],
            net.NamedModules().Select(m => m.Name));
        Assert.IsType<ReLU>(((Sequential)main)[1]);
    }

    [Fact]
    public void TwoModelsOfOneGraphGetTheirTypesOrTheirNamesAsPrefixes()
    {
        var g = new Graph();
        var a = new Net(); var b = new Net(); var c = new Net { Name = "netC" };
        a.Forward(Input(g)); b.Forward(Input(g)); c.Forward(Input(g));
        Assert.True(g.HasVariable("conv1.weight"));
        Assert.True(g.HasVariable("net.conv1.weight"));
        Assert.True(g.HasVariable("netC.conv1.weight"));
        // State dict names stay the model's own.
        Assert.Equal(a.StateDict().Select(e => e.Name), b.StateDict().Select(e => e.Name));
        Assert.Equal(a.StateDict().Select(e => e.Name), c.StateDict().Select(e => e.Name));
        Assert.Equal(b.StateDict()[0].Variable, g.GetVariable("net.conv1.weight"));
    }

    [Fact]
    public void ForwardOrderDoesNotChangeNamesAndAModuleRunTwiceSharesItsWeights()
    {
        var g = new Graph();
        var fc = new Linear(3, 3);
        var seq = new Sequential(new Linear(3, 3), fc, fc);
        fc.Forward(g.Placeholder([-1, 3])); // the shared child runs first, yet is named by its place
        seq.Forward(g.Placeholder([-1, 3]));
        Assert.Equal(["0.weight", "0.bias", "1.weight", "1.bias"], seq.NamedParameters().Select(p => p.Name));
        Assert.Equal(4, g.Variables.Count());
    }

    private sealed class Hidden : Module
    {
        private readonly List<Linear> layers = [new Linear(2, 2)];
        public override Tensor Forward(Tensor x) => layers[0].Forward(x);
    }

    [Fact]
    public void ModulesHeldInAPlainListAreAnErrorThatNamesModuleList()
    {
        var g = new Graph();
        var hidden = new Hidden();
        hidden.Forward(g.Placeholder([-1, 2]));
        var e = Assert.Throws<GraphException>(() => hidden.Parameters()); // as an optimizer asks for them
        Assert.Contains("Hidden.layers", e.Message);
        Assert.Contains("ModuleList", e.Message);
    }

    [Fact]
    public void ParametersBeforeTheFirstRunAndASecondGraphAreClearErrors()
    {
        var net = new Net();
        // conv1 4·1·9 + 4, bn1 4 + 4, main 144·8 + 8 and 8·3 + 3, heads 3·2 + 2 and 3·2: counted before any run.
        Assert.Equal(40 + 8 + 1160 + 27 + 8 + 6, net.ParameterCount());
        var e = Assert.Throws<GraphException>(() => net.Parameters());
        Assert.Contains("first time it runs", e.Message);
        net.Forward(Input(new Graph()));
        e = Assert.Throws<GraphException>(() => net.Forward(Input(new Graph())));
        Assert.Contains("another graph", e.Message);
        var list = new ModuleList<Linear>(new Linear(1, 1));
        list[0].Forward(new Graph().Placeholder([-1, 1]));
        Assert.Throws<GraphException>(() => list.Add(new Linear(1, 1)));
    }

    [Fact]
    public void TrainAndEvalSetEveryModuleBelow()
    {
        var net = new Net();
        Assert.All(net.NamedModules(), m => Assert.True(m.Module.Training));
        net.Eval();
        Assert.All(net.NamedModules(), m => Assert.False(m.Module.Training));
        var (_, main) = net.NamedModules().Single(m => m.Name == "main");
        main.Train();
        Assert.Equal(["main", "main.0", "main.1", "main.2", "main.3"], net.NamedModules().Where(m => m.Module.Training).Select(m => m.Name));
    }

    [Fact]
    public void TheTf1ConstructorsMakeTheSameLayersAtOnce()
    {
        var g = new Graph();
        var a = new Linear(g, "fc1", 5, 3, dtype: DType.Float64);
        Assert.True(a.IsBound);
        Assert.Equal("fc1.weight", ((VariableOp)a.Weight.Node.Op).VarName);
        Assert.Equal(DType.Float64, a.Bias!.DType);
        Assert.Equal(["weight", "bias"], a.NamedParameters().Select(p => p.Name));
        var b = new Linear(5, 3);
        b.Forward(g.Placeholder([-1, 5]));
        Assert.Equal(((VariableOp)a.Weight.Node.Op).Initializer, ((VariableOp)b.Weight.Node.Op).Initializer);
    }

    [Fact]
    public void ApplyVisitsChildrenFirstAndSetsInitializersBeforeTheFirstRun()
    {
        var net = new Net();
        var order = new List<string>();
        net.Apply(m => order.Add(m.GetType().Name));
        Assert.Equal(["Conv2d", "BatchNorm2d", "Linear", "ReLU", "Dropout", "Linear", "Sequential", "Linear", "Linear", "ModuleList`1", "Net"],
            order);
        net.Apply(m => { if (m is Conv2d) m.GetParameter("weight").Initializer = Init.Normal(0, 0.02); }); // DCGAN's weights_init
        var g = new Graph();
        net.Forward(Input(g));
        Assert.Equal(Init.Normal(0, 0.02), ((VariableOp)g.GetVariable("conv1.weight").Node.Op).Initializer);
        var e = Assert.Throws<GraphException>(() => net.Apply(m => { if (m is Conv2d) m.GetParameter("weight").Initializer = Init.Zeros; }));
        Assert.Contains("before the module first runs", e.Message);
        Assert.Contains("has no parameter 'kernel'", Assert.Throws<GraphException>(() => new Linear(1, 1).GetParameter("kernel")).Message);
    }
}
