using GraphNet.Runtime.Data;

namespace GraphNet.Runtime.Tests;

/// <summary>The word language model's data tools, against what data.py and main.py compute.</summary>
public class TextCorpusTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("graphnet-text-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    [Fact]
    public void ACorpusNumbersWordsInTheOrderFirstSeenWithAnEosPerLine()
    {
        File.WriteAllLines(Path.Combine(dir, "train.txt"), ["the cat  sat", "", "the dog"]);
        File.WriteAllLines(Path.Combine(dir, "valid.txt"), ["a cat"]);
        File.WriteAllLines(Path.Combine(dir, "test.txt"), ["the\tend"]);
        var corpus = TextCorpus.Load(dir);
        // the=0 cat=1 sat=2 <eos>=3 dog=4 | a=5 | end=6: one vocabulary across the three files.
        Assert.Equal(new long[] { 0, 1, 2, 3, 3, 0, 4, 3 }, (long[])corpus.Train.Data);
        Assert.Equal(new long[] { 5, 1, 3 }, (long[])corpus.Valid.Data);
        Assert.Equal(new long[] { 0, 6, 3 }, (long[])corpus.Test.Data);
        Assert.Equal(7, corpus.Dictionary.Count);
        Assert.Equal("dog", corpus.Dictionary.Word(4));
        Assert.Equal(3, corpus.Dictionary[TextCorpus.EndOfSentence]);
        File.Delete(Path.Combine(dir, "valid.txt"));
        Assert.Contains("valid.txt not found", Assert.Throws<FileNotFoundException>(() => TextCorpus.Load(dir)).Message);
    }

    [Fact]
    public void LinesSplitEightyTenTenInOrder()
    {
        var lines = Enumerable.Range(0, 20).Select(i => $"w{i}").ToList();
        var corpus = TextCorpus.FromLines(lines);
        Assert.Equal(16 * 2, corpus.Train.Size); // a word and an <eos> a line
        Assert.Equal(2 * 2, corpus.Valid.Size);
        Assert.Equal(2 * 2, corpus.Test.Size);
        Assert.Equal("w16", corpus.Dictionary.Word((int)((long[])corpus.Valid.Data)[0]));
        Assert.Equal("w18", corpus.Dictionary.Word((int)((long[])corpus.Test.Data)[0]));
    }

    [Fact]
    public void BatchifyAndGetBatchAreMainPys()
    {
        // batchify(range(10), 3): narrow to 9, view(3, -1).t() → rows [0 3 6], [1 4 7], [2 5 8].
        var b = TextCorpus.Batchify(NDArray.From(Enumerable.Range(0, 10).Select(i => (long)i).ToArray(), 10), 3);
        Assert.Equal([3, 3], b.Shape);
        Assert.Equal(new long[] { 0, 3, 6, 1, 4, 7, 2, 5, 8 }, (long[])b.Data);
        // get_batch(source, 0) with bptt 2: rows 0-1, targets rows 1-2 flattened; at i = 1 only one row is left.
        var (data, target) = TextCorpus.GetBatch(b, 0, bptt: 2);
        Assert.Equal([2, 3], data.Shape);
        Assert.Equal(new long[] { 0, 3, 6, 1, 4, 7 }, (long[])data.Data);
        Assert.Equal(new long[] { 1, 4, 7, 2, 5, 8 }, (long[])target.Data);
        var (last, lastTarget) = TextCorpus.GetBatch(b, 1, bptt: 2);
        Assert.Equal([1, 3], last.Shape);
        Assert.Equal(new long[] { 2, 5, 8 }, (long[])lastTarget.Data);
        Assert.Throws<ArgumentOutOfRangeException>(() => TextCorpus.GetBatch(b, 2, bptt: 2));
    }

    [Fact]
    public void FortuneFilesAreReadInNameOrderWithoutTheirSeparators()
    {
        File.WriteAllLines(Path.Combine(dir, "zen"), ["Last.", "%"]);
        File.WriteAllLines(Path.Combine(dir, "art"), ["First one.", "%", "Second", "one.", "%"]);
        File.WriteAllBytes(Path.Combine(dir, "art.dat"), [1, 2, 3]);
        Assert.Equal(["First one.", "Second", "one.", "Last."], Fortunes.Lines(Fortunes.FindDirectory(dir)));
        Assert.Contains("apt-get install fortunes", Assert.Throws<DirectoryNotFoundException>(
            () => Fortunes.FindDirectory(Path.Combine(dir, "none"))).Message);
    }
}
