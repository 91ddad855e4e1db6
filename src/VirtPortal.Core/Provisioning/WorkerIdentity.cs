using System.Diagnostics;
using System.Globalization;

namespace VirtPortal.Core.Provisioning;

/// <summary>
/// Who holds an operation's lease: the machine, its boot, the process (id and start time, so a reused
/// pid is not mistaken for the old process) and the worker within it. A worker that starts on the same
/// machine can then tell a lease whose process is gone from one that is still being worked on, and take
/// the dead one's work back at once instead of waiting for the lease to run out (as Nova's compute
/// start-up reclaims the instances its own host left mid-task).
/// </summary>
public sealed record WorkerIdentity(string Machine, string Boot, int ProcessId, long ProcessStart, string Worker)
{
    private const char Separator = '/';

    /// <summary>A new worker of the current process.</summary>
    public static WorkerIdentity ForThisProcess() =>
        new(MachineName(), CurrentBoot(), Environment.ProcessId, StartOf(Environment.ProcessId) ?? 0, Guid.NewGuid().ToString("N")[..8]);

    /// <summary>The lease owner string; the machine comes last since it is the only part of unbounded length.</summary>
    public override string ToString() => string.Join(Separator, Boot, ProcessId.ToString(CultureInfo.InvariantCulture),
        ProcessStart.ToString(CultureInfo.InvariantCulture), Worker, Machine);

    public static WorkerIdentity? TryParse(string? owner)
    {
        var parts = owner?.Split(Separator, 5);
        if (parts is not { Length: 5 }
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var start))
            return null;
        return new WorkerIdentity(parts[4], parts[0], pid, start, parts[3]);
    }

    /// <summary>
    /// True when <paramref name="owner"/> names a process of this machine that no longer runs: the machine
    /// has booted since, or no process with that id and start time exists. Leases of other machines, and
    /// owners this cannot read, are never called gone: only their lease running out frees them.
    /// </summary>
    public bool OutlivedOnThisMachine(WorkerIdentity owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        if (!string.Equals(owner.Machine, Machine, StringComparison.OrdinalIgnoreCase))
            return false;
        if (owner.Boot != Boot)
            return true;
        return StartOf(owner.ProcessId) != owner.ProcessStart;
    }

    private static string MachineName() => Environment.MachineName.Replace(Separator, '-');

    /// <summary>Linux's boot id; elsewhere the boot time to the minute, from the uptime.</summary>
    private static string CurrentBoot()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        var booted = DateTimeOffset.UtcNow - TimeSpan.FromMilliseconds(Environment.TickCount64);
        return booted.ToString("yyyyMMddHHmm", CultureInfo.InvariantCulture);
    }

    /// <summary>When the process started (Linux: clock ticks since boot, from /proc/PID/stat), or null when it does not run.</summary>
    internal static long? StartOf(int pid)
    {
        if (!Directory.Exists("/proc/self"))
            return FallbackStart(pid);
        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[19], CultureInfo.InvariantCulture); // field 22 of the whole line
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return FallbackStart(pid);
        }
    }

    private static long? FallbackStart(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.StartTime.ToUniversalTime().Ticks;
        }
        catch (ArgumentException)
        {
            return null; // no such process
        }
        catch (InvalidOperationException)
        {
            return null; // it exited
        }
    }
}
