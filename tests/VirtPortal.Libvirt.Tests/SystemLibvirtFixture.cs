using System.Diagnostics;
using System.Globalization;

namespace VirtPortal.Libvirt.Tests;

/// <summary>
/// A real libvirt daemon (qemu:///system) and the tiny guest from scripts/build-test-guest.sh. Starts
/// virtlogd and libvirtd when they are not running (there is no systemd here). When libvirt cannot be
/// used the tests fail: a skipped integration test would hide a broken host.
/// </summary>
public sealed class SystemLibvirtFixture : IAsyncLifetime
{
    public const string Uri = "qemu:///system";
    public const string ImageRef = "vp-tiny";

    /// <summary>An empty qcow2 base image in the default pool: enough to prove overlays, not to boot.</summary>
    public const string BlankImageRef = "vp-blank";

    public const string Pool = "default";
    private const string ImageDirectory = "/var/lib/libvirt/images";

    public async ValueTask InitializeAsync()
    {
        foreach (var file in new[] { $"{ImageRef}.vmlinuz", $"{ImageRef}.initrd" })
        {
            if (!File.Exists(Path.Combine(ImageDirectory, file)))
                throw new InvalidOperationException($"{ImageDirectory}/{file} is missing: run scripts/build-test-guest.sh as root.");
        }

        await EnsureDaemonsAsync();
        // Test classes initialise their fixtures in parallel within one process: the pool and its blank
        // image are set up once for all of them (two qemu-img runs on one file fail on its lock).
        await PoolReady.Value;
    }

    private static readonly Lazy<Task> PoolReady = new(EnsurePoolAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    public const string LibvirtdPidFile = "/run/libvirtd.pid";

    private static readonly SemaphoreSlim StartGate = new(1, 1);

    /// <summary>Starts virtlogd and libvirtd when they are not running and waits until libvirtd answers.</summary>
    public static async Task EnsureDaemonsAsync()
    {
        // Test classes initialise their fixtures in parallel; two "libvirtd -d" at once would make one fail.
        await StartGate.WaitAsync();
        try
        {
            await StartIfAbsentAsync("virtlogd", "/run/virtlogd.pid");
            await StartIfAbsentAsync("libvirtd", LibvirtdPidFile);
        }
        finally
        {
            StartGate.Release();
        }

        // libvirtd daemonizes before its socket listens; give it a few seconds.
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var (exitCode, output) = await VirshAsync("uri");
            if (exitCode == 0)
                break;
            if (deadline.Elapsed > TimeSpan.FromSeconds(10))
                throw new InvalidOperationException($"libvirtd does not answer on {Uri}: {output}");
            await Task.Delay(100);
        }
    }

    /// <summary>The "default" directory pool over the image directory, as virt-install would create it.</summary>
    private static async Task EnsurePoolAsync()
    {
        if ((await VirshAsync("pool-info", Pool)).ExitCode != 0)
            await RequireAsync("virsh", "-c", Uri, "pool-define-as", Pool, "dir", "--target", ImageDirectory);
        if (!(await VirshAsync("pool-info", Pool)).Output.Contains("running", StringComparison.Ordinal))
            await RequireAsync("virsh", "-c", Uri, "pool-start", Pool);
        var blank = Path.Combine(ImageDirectory, BlankImageRef + ".qcow2");
        // An empty file is what a create that failed (another run held the image's lock) left behind.
        if (File.Exists(blank) && new FileInfo(blank).Length == 0)
            File.Delete(blank);
        if (!File.Exists(blank))
        {
            // Written under a name of its own and renamed into place, so no other test run sees a half-made image.
            var partial = $"{blank}.{Guid.NewGuid():N}.partial";
            try
            {
                await RequireAsync("qemu-img", "create", "-q", "-f", "qcow2", partial, "64M");
                File.Move(partial, blank);
            }
            catch (IOException) when (File.Exists(blank))
            {
                // Another test run got there first with the same image.
            }
            finally
            {
                File.Delete(partial);
            }
        }
    }

    private static async Task RequireAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed: {await stdout}{await stderr}");
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>virsh as an independent client of the same daemon.</summary>
    public static async Task<(int ExitCode, string Output)> VirshAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("virsh") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Uri);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("virsh did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, ((await stdout) + (await stderr)).Trim());
    }

    /// <summary><c>virsh dominfo</c> as field/value pairs ("CPU(s)" to "2", "Max memory" to "196608 KiB").</summary>
    public static async Task<IReadOnlyDictionary<string, string>> DomInfoAsync(string domain)
    {
        var (exitCode, output) = await VirshAsync("dominfo", domain);
        Assert.True(exitCode == 0, output);
        return output.Split('\n')
            .Select(line => line.Split(':', 2))
            .Where(parts => parts.Length == 2)
            .ToDictionary(parts => parts[0].Trim(), parts => parts[1].Trim(), StringComparer.Ordinal);
    }

    /// <summary>
    /// Closes every descriptor but stdin, stdout and stderr, then runs the daemon: a daemon keeps what
    /// it inherits for as long as it runs, and a libvirtd started by a test run under
    /// <c>flock LOCKFILE dotnet test</c> held that lock until it was restarted, so every later run waiting
    /// for the lock hung.
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
    public static bool IsRunning(string pidFile)
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
