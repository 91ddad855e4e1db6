using System.Globalization;

namespace VirtPortal.Recovery.Harness;

/// <summary>
/// One scenario's log: what the harness did (starts, kills, seeds, recovery times) interleaved with every
/// line the portal processes wrote, each stamped with the wall clock, so a failure reads as one story.
/// The file is kept after the run; the harness's own lines are echoed to <paramref name="echo"/> too.
/// </summary>
public sealed class HarnessLog(string path, Action<string>? echo) : IDisposable
{
    private readonly StreamWriter writer = CreateWriter(path);
    private readonly Lock gate = new();

    public string Path { get; } = path;

    /// <summary>A line from the harness itself.</summary>
    public void Say(string message)
    {
        Write("harness", message);
        echo?.Invoke(message);
    }

    /// <summary>A line a portal process wrote on stdout or stderr.</summary>
    public void Portal(int generation, int pid, string stream, string line) => Write($"portal#{generation} pid {pid} {stream}", line);

    private void Write(string source, string line)
    {
        var stamp = DateTimeOffset.Now.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);
        lock (gate)
        {
            writer.WriteLine($"{stamp} [{source}] {line}");
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            writer.Dispose();
        }
    }

    private static StreamWriter CreateWriter(string path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        return new StreamWriter(path, append: true) { AutoFlush = true };
    }
}
