using System.Diagnostics;
using System.Globalization;
using VirtPortal.Recovery.Harness;

namespace VirtPortal.Recovery.Tests;

/// <summary>
/// Every test here drives the one libvirtd of this machine and boots guests on its two cores: one
/// collection, never run beside another, sharing one <see cref="LocalLibvirtFixture"/>.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LocalLibvirtCollection : ICollectionFixture<LocalLibvirtFixture>
{
    public const string Name = "local libvirt";
}

/// <summary>
/// The local libvirt (qemu:///system) and the tiny guest's boot images (scripts/prepare-host.sh makes both).
/// Starts virtlogd and libvirtd when they are not running (no systemd here). When libvirt cannot be used
/// the tests fail: a skipped crash test would hide a broken host.
/// </summary>
public sealed class LocalLibvirtFixture : IAsyncLifetime
{
    private const string ImageDirectory = "/var/lib/libvirt/images";

    public async ValueTask InitializeAsync()
    {
        foreach (var file in new[] { "vp-tiny.vmlinuz", "vp-tiny.initrd" })
        {
            if (!File.Exists(Path.Combine(ImageDirectory, file)))
                throw new InvalidOperationException($"{ImageDirectory}/{file} is missing: run scripts/prepare-host.sh as root.");
        }

        await StartIfAbsentAsync("virtlogd", "/run/virtlogd.pid");
        await StartIfAbsentAsync("libvirtd", "/run/libvirtd.pid");
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var (exitCode, output) = await Virsh.RunAsync(CancellationToken.None, "uri");
            if (exitCode == 0)
                break;
            if (clock.Elapsed > TimeSpan.FromSeconds(10))
                throw new InvalidOperationException($"libvirtd does not answer on {Virsh.Uri}: {output}");
            await Task.Delay(100);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>
    /// Closes every descriptor but stdin, stdout and stderr, then runs the daemon: a daemon keeps what it
    /// inherits for as long as it runs, and one started under <c>flock LOCKFILE dotnet test</c> would hold
    /// that lock, hanging every later run that waits for it (as SystemLibvirtFixture found).
    /// </summary>
    private const string WithoutInheritedDescriptors =
        """for fd in /proc/self/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; exec "$0" "$@" """;

    private static async Task StartIfAbsentAsync(string daemon, string pidFile)
    {
        if (IsRunning(pidFile))
            return;
        var start = new ProcessStartInfo("bash") { RedirectStandardError = true, ArgumentList = { "-c", WithoutInheritedDescriptors, daemon, "-d" } };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{daemon} did not start");
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{daemon} -d failed ({process.ExitCode}): {error}");
    }

    /// <summary>A pid file outlives a daemon that was killed rather than stopped: look at the process, not the file.</summary>
    private static bool IsRunning(string pidFile)
    {
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture, out var pid))
            return false;
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
