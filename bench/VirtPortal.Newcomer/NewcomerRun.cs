using System.Diagnostics;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using VirtPortal.Core.Data;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Resources;

using VirtPortal.BenchKit;

namespace VirtPortal.Newcomer;

/// <summary>One run's figures in milliseconds; null where the run's mode has no such step.</summary>
internal sealed record RunResult(
    int Index,
    double? GitClone,
    double AppStarted,
    double? Listening,
    double SignInPage,
    BrowserTimes Browser,
    ServerSplit Server,
    string HostName,
    string HostUri,
    string DomainType,
    string Load);

/// <summary>The portal's own record of the request, from its SQLite file: each step in milliseconds.</summary>
/// <remarks>The worker places the VM and claims its operation in one transaction, so they count as one step.</remarks>
internal sealed record ServerSplit(double ClickToSubmitted, double SubmittedToApproved, double ApprovedToClaimed, double ClaimedToRunning, double RunningToShown);

internal static class NewcomerRun
{
    private static readonly TimeSpan RunningTimeout = TimeSpan.FromMinutes(3);

    /// <summary>No build server or MSBuild node outlives a run, and none left by others is reused.</summary>
    public static readonly IReadOnlyDictionary<string, string> BuildEnvironment = new Dictionary<string, string>
    {
        ["MSBUILDDISABLENODEREUSE"] = "1",
        ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0",
        ["UseSharedCompilation"] = "false",
    };

    /// <summary>Builds the tree once, untimed, so that runs on it measure a returning build (up to date) and the start.</summary>
    public static async Task BuildTreeAsync(string root)
    {
        var built = await Commands.RunAsync("dotnet", ["build", "src/VirtPortal.Web", "--nologo", "-v", "q"], TimeSpan.FromMinutes(10), root, BuildEnvironment);
        if (!built.Ok)
            throw new BenchException($"dotnet build src/VirtPortal.Web failed:\n{built.Output}");
    }

    public static async Task<RunResult> ExecuteAsync(Options options, string root, int index)
    {
        var temp = Directory.CreateTempSubdirectory("virtportal-newcomer-");
        var load = string.Join(' ', (await File.ReadAllTextAsync("/proc/loadavg")).Split(' ').Take(3));
        var vmName = string.Create(CultureInfo.InvariantCulture, $"newcomer-{DateTime.UtcNow:HHmmss}-{index}");
        string? domain = null;
        FileStream? heldLock = null;
        try
        {
            double? clone = null;
            var workTree = root;
            var environment = new Dictionary<string, string>(BuildEnvironment);
            if (options.DomainType != "auto")
                environment["Hosts__LocalDomainType"] = options.DomainType;
            string database;
            if (options.FreshClone)
            {
                workTree = Path.Combine(temp.FullName, "repo");
                var clock = Stopwatch.StartNew();
                var cloned = await Commands.RunAsync("git", ["clone", "--quiet", root, workTree], TimeSpan.FromMinutes(5));
                if (!cloned.Ok)
                    throw new BenchException($"git clone failed: {cloned.Error}");
                clone = clock.Elapsed.TotalMilliseconds;
                // The README's defaults: SQLite under src/VirtPortal.Web/data/ of the clone.
                database = Path.Combine(workTree, "src", "VirtPortal.Web", "data", "virtportal.db");
                if (options.ColdNuget)
                {
                    environment["NUGET_PACKAGES"] = Path.Combine(temp.FullName, "nuget-packages");
                    environment["NUGET_HTTP_CACHE_PATH"] = Path.Combine(temp.FullName, "nuget-http-cache");
                }
            }
            else
            {
                // The built tree keeps its own data/ untouched: this run's data lives in its temp dir.
                var data = Directory.CreateDirectory(Path.Combine(temp.FullName, "data")).FullName;
                database = Path.Combine(data, "virtportal.db");
                environment["ConnectionStrings__Portal"] = $"Data Source={database}";
                environment["DataDirectory"] = data;
            }

            var startTimeout = options.ColdNuget ? TimeSpan.FromMinutes(30) : options.FreshClone ? TimeSpan.FromMinutes(15) : TimeSpan.FromMinutes(5);
            BrowserTimes browserTimes;
            double signInPage;
            double appStarted;
            double? listening;
            using (var portal = PortalProcess.Start(workTree, environment, Path.Combine(temp.FullName, "portal.log")))
            {
                try
                {
                    signInPage = (await portal.WaitForSignInPageAsync(startTimeout)).TotalMilliseconds;
                    appStarted = portal.AppStarted!.Value.TotalMilliseconds;
                    listening = portal.Listening?.TotalMilliseconds;

                    using var playwright = await Playwright.CreateAsync();
                    await using var browser = await NewcomerBrowser.LaunchAsync(playwright);
                    browserTimes = await NewcomerBrowser.RequestVmAsync(browser, portal.BaseUrl, vmName,
                        async () => heldLock = options.LockFile is { } file ? await LockAsync(file) : null, RunningTimeout);
                }
                catch (BenchException error)
                {
                    throw new BenchException(string.Create(CultureInfo.InvariantCulture, $"{error.Message}\nportal log: {Path.Combine(LogDirectory, $"run-{index}.log")}"));
                }
                finally
                {
                    await portal.StopAsync();
                }
            }

            var (split, host, name) = await ReadServerSplitAsync(database, vmName, browserTimes);
            domain = name;
            return new RunResult(index, clone, appStarted, listening, signInPage, browserTimes, split, host.Name, host.Uri, host.DomainType, load);
        }
        catch
        {
            domain ??= await TryFindDomainAsync(options, temp.FullName, vmName);
            throw;
        }
        finally
        {
            KeepLog(temp.FullName, index);
            if (domain is not null)
                await DeleteDomainAsync(domain);
            heldLock?.Dispose();
            temp.Delete(recursive: true);
        }
    }

    /// <summary>Where each run's portal log is kept (the bench's output folder), with each line's time since dotnet run.</summary>
    public static readonly string LogDirectory = Path.Combine(AppContext.BaseDirectory, "logs");

    private static void KeepLog(string temp, int index)
    {
        var log = Path.Combine(temp, "portal.log");
        if (!File.Exists(log))
            return;
        Directory.CreateDirectory(LogDirectory);
        File.Copy(log, Path.Combine(LogDirectory, string.Create(CultureInfo.InvariantCulture, $"run-{index}.log")), overwrite: true);
    }

    /// <summary>
    /// An exclusive flock(2) on <paramref name="file"/> (what .NET takes for FileShare.None on Linux), the
    /// same lock the flock(1) command takes: others' real-libvirt tests and this VM do not overlap.
    /// </summary>
    private static async Task<FileStream> LockAsync(string file)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(file, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (clock.Elapsed < TimeSpan.FromMinutes(30))
            {
                if (clock.Elapsed.TotalSeconds is > 1 and < 1.3)
                    Console.Error.WriteLine($"waiting for the lock on {file}");
                await Task.Delay(250);
            }
        }
    }

    private static async Task<(ServerSplit Split, Core.Hosts.Host Host, string Domain)> ReadServerSplitAsync(string database, string vmName, BrowserTimes browser)
    {
        await using var db = Open(database);
        var request = await db.Requests.AsNoTracking().SingleAsync(r => r.Name == vmName);
        var resource = await db.Resources.AsNoTracking().SingleAsync(r => r.Id == request.ResourceId);
        var host = await db.Hosts.AsNoTracking().SingleAsync(h => h.Id == resource.HostId);
        var operation = await db.Operations.AsNoTracking().SingleAsync(o => o.RequestId == request.Id && o.Kind == OperationKind.Create);
        var audit = await db.AuditEntries.AsNoTracking()
            .Where(e => e.Target == $"request {request.Id}" || e.Target == $"operation {operation.Id}" || (e.Action == "resource.placed" && e.Target.EndsWith(" " + vmName)))
            .OrderBy(e => e.Id).ToListAsync();
        DateTimeOffset At(string action) => audit.FirstOrDefault(e => e.Action == action)?.At
            ?? throw new BenchException($"the audit log has no {action} for {vmName}");
        double Ms(DateTimeOffset from, DateTimeOffset to) => (to - from).TotalMilliseconds;
        var submitted = At("request.submitted");
        var approved = At("request.approved");
        var claimed = new[] { At("resource.placed"), At("operation.started") }.Max();
        var running = At("operation.succeeded");
        var split = new ServerSplit(Ms(browser.SubmitClickedAt, submitted), Ms(submitted, approved), Ms(approved, claimed), Ms(claimed, running),
            Ms(running, browser.RunningShownAt));
        return (split, host, ResourceLifecycle.DomainName(resource));
    }

    private static PortalDbContext Open(string database) =>
        new(new DbContextOptionsBuilder<PortalDbContext>().UseSqlite($"Data Source={database};Mode=ReadOnly").Options);

    /// <summary>After a failed run: the VM it may have made, if the portal recorded one.</summary>
    private static async Task<string?> TryFindDomainAsync(Options options, string temp, string vmName)
    {
        var database = options.FreshClone
            ? Path.Combine(temp, "repo", "src", "VirtPortal.Web", "data", "virtportal.db")
            : Path.Combine(temp, "data", "virtportal.db");
        if (!File.Exists(database))
            return null;
        try
        {
            await using var db = Open(database);
            var resource = await db.Resources.AsNoTracking().FirstOrDefaultAsync(r => r.Name == vmName);
            return resource is null ? null : ResourceLifecycle.DomainName(resource);
        }
        catch (Microsoft.Data.Sqlite.SqliteException)
        {
            return null;
        }
    }

    /// <summary>Deletes the run's VM from libvirt with its storage (the portal has stopped by now).</summary>
    private static async Task DeleteDomainAsync(string domain)
    {
        var state = await Commands.VirshAsync(Options.LibvirtUri, "domstate", domain);
        if (!state.Ok)
            return; // never defined
        if (state.Output != "shut off")
            await Commands.VirshAsync(Options.LibvirtUri, "destroy", domain);
        var undefined = await Commands.VirshAsync(Options.LibvirtUri, "undefine", domain, "--remove-all-storage");
        if (!undefined.Ok)
            Console.Error.WriteLine($"could not delete {domain}: {undefined.Error}");
    }
}
