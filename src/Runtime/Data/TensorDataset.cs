namespace GraphNet.Runtime.Data;

/// <summary>
/// Samples as rows of arrays of any shape and dtype that share their first dimension, as
/// torch.utils.data.TensorDataset: sample i is (tensors[0][i], tensors[1][i], ...).
/// </summary>
public sealed class TensorDataset
{
    private readonly NDArray[] tensors;

    public TensorDataset(params NDArray[] tensors)
    {
        if (tensors.Length == 0) throw new ArgumentException("a TensorDataset needs at least one array");
        for (int k = 0; k < tensors.Length; k++)
        {
            if (tensors[k].Shape.Length == 0)
                throw new ArgumentException($"array {k} of the dataset is a scalar; each needs a sample dimension first");
            if (tensors[k].Shape[0] != tensors[0].Shape[0])
                throw new ArgumentException($"array {k} of the dataset has {tensors[k].Shape[0]} samples ({tensors[k].ShapeString}) " +
                    $"but array 0 has {tensors[0].Shape[0]} ({tensors[0].ShapeString})");
        }
        this.tensors = tensors;
    }

    /// <summary>Images and labels as a dataset of two arrays, [count, C, H, W] float32 and [count] int64.</summary>
    public static TensorDataset From(ImageDataset d) =>
        new(NDArray.From(d.Images, d.Count, d.Channels, d.Height, d.Width), NDArray.From(d.Labels, d.Count));

    public int Count => tensors[0].Shape[0];
    public IReadOnlyList<NDArray> Tensors => tensors;

    /// <summary>The samples at <paramref name="indices"/>, stacked: one array per tensor, [indices.Count, ...].</summary>
    public NDArray[] Gather(IReadOnlyList<int> indices) => tensors.Select(t => t.Take(indices)).ToArray();

    /// <summary>The first <paramref name="n"/> samples.</summary>
    public TensorDataset Take(int n) => n >= Count ? this : new(Gather(Enumerable.Range(0, n).ToArray()));
}
