namespace GraphNet.Tests;

/// <summary>Saves are whole or absent: one temp per write, old temps of killed writes cleaned, the old file kept on failure.</summary>
public class AtomicFileTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("graphnet-atomic-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    [Fact]
    public void TwoThreadsSavingToOnePathNeverCollideAndLeaveAWholeFile()
    {
        // Temps were named by process id: two threads of one process wrote the same temp file.
        var path = Path.Combine(dir, "model.bin");
        byte[] Content(int who) => [.. Enumerable.Repeat((byte)who, 1 << 16)];
        var errors = new List<Exception>();
        var threads = Enumerable.Range(1, 2).Select(who => new Thread(() =>
        {
            try { for (int i = 0; i < 40; i++) AtomicFile.WriteAllBytes(path, Content(who)); }
            catch (Exception e) { lock (errors) errors.Add(e); }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Empty(errors);
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.SequenceEqual(Content(1)) || bytes.SequenceEqual(Content(2)), "the file is one write's whole content");
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
    }

    [Fact]
    public void TheTempOfAKilledWriteIsRemovedByTheNextOnceStale()
    {
        var path = Path.Combine(dir, "graph.json");
        var killed = AtomicFile.TempFor(path);
        var live = AtomicFile.TempFor(path); // another writer's, still at work
        File.WriteAllText(killed, "half");
        File.WriteAllText(live, "in progress");
        File.SetLastWriteTimeUtc(killed, DateTime.UtcNow - AtomicFile.StaleAfter - TimeSpan.FromMinutes(1));
        AtomicFile.WriteAllText(path, "whole");
        Assert.False(File.Exists(killed));
        Assert.True(File.Exists(live));
        Assert.Equal("whole", File.ReadAllText(path));
    }

    [Fact]
    public void AFailedWriteKeepsTheOldFileAndLeavesNoTemp()
    {
        var path = Path.Combine(dir, "checkpoint");
        AtomicFile.WriteAllText(path, "old");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, f =>
        {
            f.Write("new, half"u8);
            throw new InvalidOperationException("the disk is full");
        }));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
    }
}
