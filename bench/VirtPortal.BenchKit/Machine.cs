using System.Globalization;

namespace VirtPortal.BenchKit;

/// <summary>The figures every PERFORMANCE.md block states about the machine a run had.</summary>
public static class Machine
{
    /// <summary>The 1, 5 and 15 minute load averages, as /proc/loadavg gives them.</summary>
    public static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    /// <summary>"2 × Intel(R) Xeon(R) Processor, 24 GiB": logical CPUs, the first CPU's model name, total memory.</summary>
    public static string Describe()
    {
        var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        var memKiB = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var gib = Math.Round(long.Parse(memKiB, CultureInfo.InvariantCulture) / 1024.0 / 1024.0);
        return string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessorCount} × {model}, {gib:0} GiB");
    }

    /// <summary>user + system CPU time of a process in seconds (/proc/PID/stat, USER_HZ 100).</summary>
    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <summary>VmRSS of a process in bytes (/proc/PID/status).</summary>
    public static long RssBytes(int pid) =>
        1024 * long.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
}
