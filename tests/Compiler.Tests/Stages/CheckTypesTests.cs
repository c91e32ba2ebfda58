using GraphNet.Compiler.Passes;

namespace GraphNet.Compiler.Tests.Stages;

public class CheckTypesTests
{
    [Fact]
    public void AWellFormedUnitPassesUnchanged()
    {
        var (g, x, y) = StageTestKit.Dense();
        var unit = new Unit(g, [y], [x]);
        Assert.Same(unit, new CheckTypes().Run(unit));
    }

    [Fact]
    public void AFetchFromAnotherGraphIsRejectedNamingTheStage()
    {
        var (g, x, _) = StageTestKit.Dense();
        var foreign = F.Exp(new Graph().Placeholder([2], "other"));
        var e = Assert.Throws<InvalidOperationException>(() => new CheckTypes().Run(new Unit(g, [foreign], [x])));
        Assert.Contains("after pass 'check'", e.Message);
        Assert.Contains("'exp'", e.Message);
    }
}
