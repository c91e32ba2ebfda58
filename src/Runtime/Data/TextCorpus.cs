namespace GraphNet.Runtime.Data;

/// <summary>
/// pytorch/examples' word_language_model <c>Dictionary</c>: words numbered in the order first seen.
/// </summary>
public sealed class Vocabulary
{
    private readonly Dictionary<string, int> ids = [];
    private readonly List<string> words = [];

    /// <summary>The word's id, numbering it if it is new (add_word).</summary>
    public int Add(string word)
    {
        if (!ids.TryGetValue(word, out int id)) { id = words.Count; words.Add(word); ids[word] = id; }
        return id;
    }

    public int this[string word] => ids.TryGetValue(word, out int id) ? id
        : throw new KeyNotFoundException($"'{word}' is not in the vocabulary ({words.Count} words)");

    public bool Contains(string word) => ids.ContainsKey(word);
    public string Word(int id) => words[id];
    public IReadOnlyList<string> Words => words;
    public int Count => words.Count;
}

/// <summary>
/// pytorch/examples' word_language_model <c>Corpus</c>: each line split on whitespace with an
/// <c>&lt;eos&gt;</c> after it, numbered through one <see cref="Vocabulary"/> shared by the three
/// parts, each part one int64 array of its tokens in order.
/// </summary>
public sealed class TextCorpus
{
    public const string EndOfSentence = "<eos>";

    private TextCorpus(Vocabulary vocabulary, NDArray train, NDArray valid, NDArray test) =>
        (Dictionary, Train, Valid, Test) = (vocabulary, train, valid, test);

    public Vocabulary Dictionary { get; }
    public NDArray Train { get; }
    public NDArray Valid { get; }
    public NDArray Test { get; }

    /// <summary>The original's layout: <paramref name="dir"/>/train.txt, valid.txt and test.txt (UTF-8).</summary>
    public static TextCorpus Load(string dir)
    {
        string Part(string name)
        {
            var path = Path.Combine(dir, name);
            return File.Exists(path) ? path
                : throw new FileNotFoundException($"corpus file {path} not found: a corpus folder holds train.txt, valid.txt and test.txt", path);
        }
        var (train, valid, test) = (Part("train.txt"), Part("valid.txt"), Part("test.txt"));
        var vocabulary = new Vocabulary();
        return new TextCorpus(vocabulary, Tokenize(File.ReadLines(train), vocabulary), Tokenize(File.ReadLines(valid), vocabulary),
            Tokenize(File.ReadLines(test), vocabulary));
    }

    /// <summary>
    /// A corpus from lines of text split in order: the first <paramref name="trainFraction"/> of the
    /// lines for training, the next <paramref name="validFraction"/> for validation, the rest for testing.
    /// </summary>
    public static TextCorpus FromLines(IReadOnlyList<string> lines, double trainFraction = 0.8, double validFraction = 0.1)
    {
        if (trainFraction <= 0 || validFraction < 0 || trainFraction + validFraction >= 1)
            throw new ArgumentException($"the split {trainFraction}/{validFraction}/rest must leave every part some of the text");
        int trainEnd = (int)(lines.Count * trainFraction), validEnd = (int)(lines.Count * (trainFraction + validFraction));
        var vocabulary = new Vocabulary();
        return new TextCorpus(vocabulary, Tokenize(lines.Take(trainEnd), vocabulary),
            Tokenize(lines.Skip(trainEnd).Take(validEnd - trainEnd), vocabulary), Tokenize(lines.Skip(validEnd), vocabulary));
    }

    /// <summary>Every line's words and an &lt;eos&gt;, numbered (new words added to the vocabulary), as one int64 array.</summary>
    public static NDArray Tokenize(IEnumerable<string> lines, Vocabulary vocabulary)
    {
        var ids = new List<long>();
        foreach (var line in lines)
        {
            foreach (var word in line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)) ids.Add(vocabulary.Add(word));
            ids.Add(vocabulary.Add(EndOfSentence));
        }
        return NDArray.From(ids.ToArray(), ids.Count);
    }

    /// <summary>
    /// main.py's batchify: the tokens cut to a multiple of <paramref name="batchSize"/> and laid out
    /// as <paramref name="batchSize"/> columns of consecutive text, [tokens / batchSize, batchSize].
    /// </summary>
    public static NDArray Batchify(NDArray data, int batchSize)
    {
        if (data.Rank != 1 || data.DType != DType.Int64)
            throw new ArgumentException($"batchify takes a 1-D int64 token array, got {data.DType} [{string.Join(",", data.Shape)}]");
        int rows = data.Size / batchSize;
        if (rows < 2) throw new ArgumentException($"{data.Size} tokens make fewer than 2 rows of batch {batchSize}");
        var tokens = (long[])data.Data;
        var batched = new long[rows * batchSize];
        for (int column = 0; column < batchSize; column++)
            for (int r = 0; r < rows; r++) batched[r * batchSize + column] = tokens[column * rows + r];
        return NDArray.From(batched, rows, batchSize);
    }

    /// <summary>
    /// main.py's get_batch: rows [i, i + len) of a batchified source as the input [len, N] and the
    /// rows one later, flattened, as the targets [len·N], where len = min(bptt, rows − 1 − i).
    /// </summary>
    public static (NDArray Data, NDArray Target) GetBatch(NDArray source, int i, int bptt)
    {
        int rows = source.Shape[0], n = source.Shape[1], length = Math.Min(bptt, rows - 1 - i);
        if (i < 0 || length < 1) throw new ArgumentOutOfRangeException(nameof(i), $"row {i} leaves no target in a source of {rows} rows");
        var s = (long[])source.Data;
        return (NDArray.From(s[(i * n)..((i + length) * n)], length, n), NDArray.From(s[((i + 1) * n)..((i + 1 + length) * n)], length * n));
    }
}

/// <summary>
/// The text of Debian's <c>fortunes</c> package (/usr/share/games/fortunes), the corpus the
/// sequence examples read: every fortune file in name order, its lines in order, without the
/// <c>%</c> lines that separate the fortunes.
/// </summary>
public static class Fortunes
{
    public const string DefaultDirectory = "/usr/share/games/fortunes";

    public static string FindDirectory(string? dir = null)
    {
        var d = dir ?? DefaultDirectory;
        if (Directory.Exists(d) && Files(d).Any()) return d;
        throw new DirectoryNotFoundException($"no fortune files in {d}; install them with `apt-get install fortunes`, or pass --data DIR");
    }

    /// <summary>The lines of every fortune file in <paramref name="dir"/>, in name order.</summary>
    public static IReadOnlyList<string> Lines(string dir) =>
        Files(dir).SelectMany(File.ReadLines).Where(l => l.Trim() != "%").ToList();

    // Fortune files have no extension; their .dat indexes and .u8 links are skipped.
    private static IEnumerable<string> Files(string dir) => Directory.EnumerateFiles(dir)
        .Where(f => Path.GetExtension(f).Length == 0).Order(StringComparer.Ordinal);
}
