using System.Runtime.InteropServices;

namespace GraphNet;

/// <summary>
/// Writes a file whole or not at all: into a temp file beside it (a name of its own for every
/// write, so two threads or processes saving to one path never share one), flushed to disk,
/// renamed over the path, and then the folder synced so that the rename itself survives a
/// crash. A failed write leaves the old file as it was and removes its temp; temps that a killed
/// write left behind are removed by the next write to that path once they are an hour old.
/// </summary>
public static class AtomicFile
{
    /// <summary>Temps older than this are from a write that was killed (no live write takes that long).</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromHours(1);

    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        RemoveStaleTemps(full);
        var tmp = TempFor(full);
        try
        {
            using (var f = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(f);
                f.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            throw;
        }
        SyncFolder(folder);
    }

    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, f => f.Write(bytes));

    public static void WriteAllText(string path, string text) => WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>The temp file a write to <paramref name="full"/> uses: "name.{random}.tmp" in its folder.</summary>
    public static string TempFor(string full) => $"{full}.{Guid.NewGuid():N}.tmp";

    private static void RemoveStaleTemps(string full)
    {
        var folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder)) return;
        foreach (var stale in Directory.EnumerateFiles(folder, Path.GetFileName(full) + ".*.tmp"))
            try
            {
                if (DateTime.UtcNow - File.GetLastWriteTimeUtc(stale) > StaleAfter) File.Delete(stale);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>fsync of the folder on Unix (where a rename is durable only then); Windows' rename needs none.</summary>
    private static void SyncFolder(string folder)
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())) return;
        const int ReadOnly = 0;
        int fd = Native.open(folder, ReadOnly);
        if (fd < 0) return; // best effort: the data itself is on disk already
        Native.fsync(fd);
        Native.close(fd);
    }

    private static class Native
    {
        [DllImport("libc", SetLastError = true)] public static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);
        [DllImport("libc", SetLastError = true)] public static extern int fsync(int fd);
        [DllImport("libc")] public static extern int close(int fd);
    }
}
