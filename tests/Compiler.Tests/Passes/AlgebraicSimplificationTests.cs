using GraphNet.Compiler.Passes;
using static GraphNet.Compiler.Tests.Passes.PassTestKit;

namespace GraphNet.Compiler.Tests.Passes;

public class AlgebraicSimplificationTests
{
    [Fact]
    public void RemovesIdentitiesAndComposesShapeOps()
    {
        var g = new Graph();
        var x = g.Placeholder([2, 3], "x");
        var a = (x * 1.0 + 0.0) / 1.0;
        var b = F.Neg(F.Neg(a));
        var t = F.Transpose(F.Transpose(b, 1, 0), 1, 0);
        var r = F.Reshape(F.Reshape(t, 3, 2), 6);
        var (_, after) = Run(new AlgebraicSimplification(), g, [r], [x]);
        Assert.Equal(Norm("""
            %0 = placeholder() : f32[2,3]  # x
            %1 = constant() {value=1} : f32[]  # scalar
            %2 = constant() {value=0} : f32[]  # scalar_1
            %3 = neg(%0) : f32[2,3]  # neg
            %4 = transpose(%0) {perm=[1,0]} : f32[3,2]  # transpose
            %5 = reshape(%0) {shape=[3,2]} : f32[3,2]  # reshape
            %6 = reshape(%0) {shape=[6]} : f32[6]  # reshape_1
            fetch %6
            """), Norm(after));
    }

    [Fact]
    public void RewritesLogOfSoftmaxAndDivisionByAConstant()
    {
        var g = new Graph();
        var x = g.Placeholder([2, 3], "x");
        var y = F.Log(F.Softmax(x, 1)) / 4.0;
        var (_, after) = Run(new AlgebraicSimplification(), g, [y], [x]);
        Assert.Contains("log_softmax(%0) {axis=1}", after);
        Assert.Contains("constant() {value=0.25}", after);
        Assert.Matches(@"mul\(%\d+, %\d+\) : f32\[2,3\]", after);
        Assert.DoesNotContain(" = log(", after);
    }

    [Fact]
    public void KeepsXTimesZeroBecauseXMayBeNaN()
    {
        var g = new Graph();
        var x = g.Placeholder([2], "x");
        var (_, after) = Run(new AlgebraicSimplification(), g, [x * 0.0], [x]);
        Assert.Contains("mul(%0, %1)", after);
    }

    [Fact]
    public void SummedPadsOfAdjacentSlicesBecomeOneConcat()
    {
        // The gradient of slicing a gate matrix into four gates: four zero pads, summed.
        var g = new Graph();
        var gates = g.Placeholder([-1, 8], "gates");
        var parts = Enumerable.Range(0, 4).Select(i => F.Slice(gates, 1, 2 * i, 2)).ToArray();
        var loss = F.Sum(F.Tanh(parts[0]) * F.Sigmoid(parts[1]) + F.Exp(parts[2]) - parts[3] * parts[3]);
        var grad = F.Gradients([loss], [gates])[0]!;
        var (before, _) = Run(new AlgebraicSimplification(), g, [grad], [gates]);
        var simplified = new AlgebraicSimplification().Run(new Unit(g, [grad], [gates]));
        var after = new DeadCodeElimination().Run(simplified).ToText(); // the pads it bypassed are dead
        Assert.Equal(4, System.Text.RegularExpressions.Regex.Matches(before, " = pad\\(").Count);
        Assert.False(after.Contains(" = pad("), after);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(after, " = concat\\("));
        Assert.Matches(@"concat\(%\d+, %\d+, %\d+, %\d+\) \{axis=1\} : f32\[N,8\]", after);
        // And the values are unchanged (the session runs the whole pipeline).
        var feeds = new Dictionary<Tensor, NDArray> { [gates] = BackendParity.Random(new Random(1), [3, 8]) };
        BackendParity.Check(g, [grad], feeds, "merged pads");
    }

    [Fact]
    public void LeavesPadsThatDoNotTile()
    {
        var g = new Graph();
        var x = g.Placeholder([2, 3], "x");
        var y = F.Pad(x, [0, 0, 0, 2]) + F.Pad(x, [0, 0, 1, 1]); // overlapping ranges
        var (_, after) = Run(new AlgebraicSimplification(), g, [y], [x]);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(after, " = pad\\(").Count);
        Assert.DoesNotContain("concat", after);
    }
    [Fact]
    public void ASumOfRowProductsBecomesOneBatchSummedProduct()
    {
        // A weight shared across time steps: its gradient is Σₜ aₜᵀ·bₜ over the batch rows.
        var g = new Graph();
        var a = Enumerable.Range(0, 4).Select(t => g.Placeholder([-1, 5], $"a{t}")).ToArray();
        var b = Enumerable.Range(0, 4).Select(t => g.Placeholder([-1, 3], $"b{t}")).ToArray();
        var sum = F.MatMul(a[0], b[0], true, false);
        for (int t = 1; t < 4; t++) sum = sum + F.MatMul(a[t], b[t], true, false);
        var simplified = new AlgebraicSimplification().Run(new Unit(g, [sum], [.. a, .. b]));
        var after = new DeadCodeElimination().Run(simplified).ToText();
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(after, @" = matmul\("));
        Assert.Matches(@"matmul\(%\d+, %\d+\) \{transA=true, transB=false, sum_batch=true\} : f32\[5,3\]", after);
        Assert.Matches(@"concat\(%\d+, %\d+, %\d+, %\d+\) \{axis=1\} : f32\[N,4,5\]", after);
        Assert.DoesNotContain(" = add(", after);
        var rng = new Random(2);
        var feeds = a.Concat(b).ToDictionary(p => p, p => BackendParity.Random(rng, [7, p.Shape[1]]));
        BackendParity.Check(g, [sum], feeds, "stacked row products");
    }

    [Fact]
    public void LeavesProductsThatAreNotOverTheSameRows()
    {
        var g = new Graph();
        var x = g.Placeholder([4, 5], "x");
        var y = g.Placeholder([6, 5], "y");
        var w = g.Placeholder([4, 3], "w");
        var v = g.Placeholder([6, 3], "v");
        var z = F.MatMul(x, w, true, false) + F.MatMul(y, v, true, false); // 4 rows and 6 rows: both 5×3
        var (_, after) = Run(new AlgebraicSimplification(), g, [z], [x, y, w, v]);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(after, " = matmul\\(").Count);
        Assert.DoesNotContain("sum_batch", after);
    }
}
