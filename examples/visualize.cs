#:project ../src/Compiler/GraphNet.Compiler.csproj
#:project Shared/GraphNet.Examples.csproj
// Builds the book's CNN, differentiates it, and draws what GraphNet sees: the forward graph,
// the training graph (forward, backward and Adadelta updates), and the compiler's HTML report
// of the training step (kernels, fusion reasons, memory, generated code).
//   dotnet run -c Release examples/visualize.cs -- [--help] [--out DIR]      (needs Graphviz: apt-get install graphviz)
using System.CommandLine;
using GraphNet;
using GraphNet.Compiler;
using GraphNet.Examples;
using GraphNet.Nn;
using GraphNet.Train;

var outOption = ExampleCli.Option("--out", "graphnet-visualize", "folder for the drawings, texts and the compile dump");
var command = new RootCommand("Draws the book's CNN, its training graph and the compiler's report of its training step") { outOption };
return ExampleCli.Run(command, args, parsed => Draw(parsed.GetValue(outOption)!));

int Draw(string outDir)
{
    Directory.CreateDirectory(outDir);
    var forward = Cnn(false, out _, out _, out _);
    forward.SaveSvg(Path.Combine(outDir, "forward.svg"));
    forward.SavePng(Path.Combine(outDir, "forward.png"));
    File.WriteAllText(Path.Combine(outDir, "forward.txt"), forward.ToText(withSource: true));

    var training = Cnn(true, out var x, out var y, out var trainFetches);
    training.SaveSvg(Path.Combine(outDir, "training.svg"));
    training.SavePng(Path.Combine(outDir, "training.png"));
    File.WriteAllText(Path.Combine(outDir, "training.txt"), training.ToText(withSource: true));

    // Compile the training step with dumps on: one folder with every pass, the fusion and memory reports and report.html.
    using var session = new Session(training, new SessionOptions { DumpDirectory = Path.Combine(outDir, "dumps"), UseCompileCache = false });
    var exe = session.Compiled(trainFetches,
        new Dictionary<Tensor, NDArray> { [x] = NDArray.Zeros(DType.Float32, 1, 1, 28, 28), [y] = NDArray.Zeros(DType.Int64, 1) });
    Console.WriteLine($"forward graph: {forward.Nodes.Count} nodes; training graph: {training.Nodes.Count} nodes, " +
        $"compiled into {exe.KernelCount} kernels");
    Console.WriteLine($"compile dump: {Path.GetFullPath(exe.Report.DumpFolder!)}");
    Console.WriteLine($"wrote everything to {Path.GetFullPath(outDir)} (open report.html inside the dump folder)");
    return 0;
}

Graph Cnn(bool train, out Tensor images, out Tensor labels, out Tensor[] fetches)
{
    var g = new Graph(seed: 1) { Name = train ? "cnn-training" : "cnn-forward" };
    images = g.Placeholder([-1, 1, 28, 28], "images");
    labels = g.Placeholder(DType.Int64, [-1], "labels");
    var conv1 = new Conv2d(g, "conv1", 1, 32, 3);
    var conv2 = new Conv2d(g, "conv2", 32, 64, 3);
    var fc1 = new Linear(g, "fc1", 9216, 128);
    var fc2 = new Linear(g, "fc2", 128, 10);
    var h = F.Relu(conv2.Forward(F.Relu(conv1.Forward(images))));
    h = F.Flatten(F.Dropout(F.MaxPool2d(h, 2), 0.25));
    h = F.Dropout(F.Relu(fc1.Forward(h)), 0.5);
    var logProbs = F.LogSoftmax(fc2.Forward(h), 1);
    var loss = F.NllLoss(logProbs, labels);
    fetches = train ? [loss, new Adadelta(0.5).Minimize(loss)] : [logProbs];
    return g;
}
