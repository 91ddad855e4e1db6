using System.Diagnostics;

namespace VirtPortal.Recovery.Harness;

/// <summary>A domain as <c>virsh dominfo</c> describes it.</summary>
public sealed record VirshDomain(Guid Uuid, string Name, string State, int VCpus, long MaxMemoryKiB);

/// <summary>
/// virsh on qemu:///system: the independent witness. It shares no code with the portal's libvirt
/// adapter, so what it reports is what the host has, whatever the portal believes.
/// </summary>
public static class Virsh
{
    public const string Uri = "qemu:///system";
    public const string Pool = "default";

    public static async Task<(int ExitCode, string Output)> RunAsync(CancellationToken ct, params string[] arguments)
    {
        var start = new ProcessStartInfo("virsh") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Uri);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("virsh did not start");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        var output = (await stdout).Trim();
        var error = (await stderr).Trim();
        return (process.ExitCode, process.ExitCode == 0 ? output : (output + "\n" + error).Trim());
    }

    /// <summary>Every domain's UUID, running or not (<c>virsh list --all --uuid</c>).</summary>
    public static async Task<IReadOnlyList<Guid>> AllUuidsAsync(CancellationToken ct) =>
        [.. Lines(await RequireAsync(ct, "list", "--all", "--uuid")).Select(Guid.Parse)];

    /// <summary>Every domain's name, running or not (<c>virsh list --all --name</c>).</summary>
    public static async Task<IReadOnlyList<string>> AllNamesAsync(CancellationToken ct) =>
        Lines(await RequireAsync(ct, "list", "--all", "--name"));

    /// <summary><c>virsh domstate</c>: "running", "shut off", "paused" …; null when no such domain.</summary>
    public static async Task<string?> DomStateAsync(string domain, CancellationToken ct)
    {
        var (exitCode, output) = await RunAsync(ct, "domstate", domain);
        return exitCode == 0 ? output.Trim() : null;
    }

    /// <summary><c>virsh dominfo</c>; null when no such domain (it was undefined meanwhile).</summary>
    public static async Task<VirshDomain?> DomInfoAsync(string domain, CancellationToken ct)
    {
        var (exitCode, output) = await RunAsync(ct, "dominfo", domain);
        if (exitCode != 0)
            return null;
        var fields = output.Split('\n')
            .Select(line => line.Split(':', 2))
            .Where(parts => parts.Length == 2)
            .ToDictionary(parts => parts[0].Trim(), parts => parts[1].Trim(), StringComparer.Ordinal);
        return new VirshDomain(
            Guid.Parse(fields["UUID"]), fields["Name"], fields["State"],
            int.Parse(fields["CPU(s)"], System.Globalization.CultureInfo.InvariantCulture),
            long.Parse(fields["Max memory"].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>The volumes of the storage pool, after a refresh so that files created behind libvirt's back show too.</summary>
    public static async Task<IReadOnlyList<string>> VolumesAsync(CancellationToken ct)
    {
        if ((await RunAsync(ct, "pool-info", Pool)).ExitCode != 0)
            return [];
        await RunAsync(ct, "pool-refresh", Pool);
        // " Name   Path" / "-----" / " vp-tiny.qcow2   /var/lib/…"
        return [.. Lines(await RequireAsync(ct, "vol-list", Pool))
            .SkipWhile(line => !line.StartsWith("---", StringComparison.Ordinal)).Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0])];
    }

    /// <summary>
    /// Destroys and undefines the domain with UUID <paramref name="id"/> and removes its disk and console
    /// log; whatever is already gone is skipped. Returns what was removed, for the scenario's log.
    /// </summary>
    public static async Task<string> RemoveAsync(Guid id, string name, string consoleLogDirectory, CancellationToken ct)
    {
        var removed = new List<string>();
        var uuid = id.ToString("D");
        if ((await RunAsync(ct, "domstate", uuid)).ExitCode == 0)
        {
            await RunAsync(ct, "destroy", uuid);
            var (exitCode, output) = await RunAsync(ct, "undefine", uuid, "--remove-all-storage");
            removed.Add(exitCode == 0 ? "domain" : $"domain (undefine failed: {output})");
        }

        if ((await RunAsync(ct, "vol-info", "--pool", Pool, $"{uuid}.qcow2")).ExitCode == 0)
        {
            await RunAsync(ct, "vol-delete", "--pool", Pool, $"{uuid}.qcow2");
            removed.Add("volume");
        }

        foreach (var log in new[] { $"{name}-console.log", $"{name}.log" })
        {
            var path = Path.Combine(consoleLogDirectory, log);
            if (File.Exists(path))
            {
                File.Delete(path);
                removed.Add(log);
            }
        }

        return removed.Count == 0 ? "nothing left" : string.Join(", ", removed);
    }

    private static async Task<string> RequireAsync(CancellationToken ct, params string[] arguments)
    {
        var (exitCode, output) = await RunAsync(ct, arguments);
        if (exitCode != 0)
            throw new InvalidOperationException($"virsh {string.Join(' ', arguments)} failed: {output}");
        return output;
    }

    private static List<string> Lines(string output) =>
        [.. output.Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0)];
}
