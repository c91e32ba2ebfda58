namespace GraphNet.Compiler.Tests.Stages;

public class PlanMemoryTests
{
    /// <summary>A chain of four same-shaped kernels split by reductions: buffers come back for reuse.</summary>
    private static Compilation Chain()
    {
        var g = new Graph();
        var x = g.Placeholder([-1, 64], "x");
        var h = x;
        for (int i = 0; i < 4; i++) h = F.Exp(h - F.Max(h, [1], keepDims: true));
        return StageTestKit.RunThrough("plan_memory", g, [F.Sum(h)], [x]);
    }

    [Fact]
    public void DeadValuesGiveTheirBuffersToLaterOnes()
    {
        var c = Chain();
        Assert.True(c.Memory.ArenaBytes(32) < c.Memory.NaiveBytes(32), $"arena {c.Memory.ArenaBytes(32)} vs naive {c.Memory.NaiveBytes(32)}");
        Assert.True(c.Memory.Slots.Count < c.Memory.Lifetimes.Count);
        // The table: feeds first, then variables, constants, slots, second buffers, each entry once.
        Assert.Equal(c.Memory.Feeds.Count + c.Memory.Variables.Count * 2 + c.Memory.Constants.Count + c.Memory.Slots.Count, c.Buffers.Count);
        Assert.Equal(0, c.Buffers.IndexOf(c.Unit.Feeds[0]));
    }

    [Fact]
    public void TheVerifierCatchesTwoLiveValuesInOneBuffer()
    {
        var c = Chain();
        var lifetimes = c.Memory.Lifetimes;
        // A planted bug: a value made while another is still read gets that one's buffer too.
        var pair = lifetimes.SelectMany(a => lifetimes.Select(b => (a, b)))
            .First(p => p.a.Slot != p.b.Slot && p.a.Def < p.b.Def && p.b.Def < p.a.LastUse);
        lifetimes[lifetimes.IndexOf(pair.b)] = pair.b with { Slot = pair.a.Slot };
        var e = Assert.Throws<InvalidOperationException>(() => StageTestKit.Named("plan_memory").Verify(c));
        Assert.Contains("after stage 'plan_memory'", e.Message);
        Assert.Contains("at once", e.Message);
    }
}
