using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Users;

namespace VirtPortal.Recovery.Harness;

/// <summary>Where the portal kills itself: <c>FaultInjection:KillAt</c> at its <c>KillOnHit</c>-th hit.</summary>
public sealed record FaultInjection(string KillAt, int KillOnHit = 1)
{
    public override string ToString() => $"KillAt={KillAt}, KillOnHit={KillOnHit}";
}

/// <summary>An operation the dead process held a lease on when it died.</summary>
public sealed record LeasedOperation(Guid Id, OperationKind Kind, string Resource, string? LeaseOwner, DateTimeOffset LeaseExpiresAt);

/// <summary>One kill: how, when, what the dead process had leased and what the host had at that moment.</summary>
public sealed record KillRecord(int Number, string How, DateTimeOffset At, IReadOnlyList<LeasedOperation> Leased, IReadOnlyDictionary<string, string> HostStates);

/// <summary>
/// One portal's life across kills and restarts, on real libvirt: its own temp directory (SQLite file,
/// data-protection keys), a series of portal processes on that directory, the demo member submitting
/// tiny VMs through Core, and virsh judging the outcome. Disposing it kills any live portal, removes
/// every domain and disk of its resources from the host and deletes the directory; the log stays
/// (with a copy of the database when the scenario was not verified clean).
/// </summary>
public sealed partial class CrashScenario : IAsyncDisposable
{
    /// <summary>Far longer than any recovery here, so a takeover that waited for the lease cannot pass for one at start-up.</summary>
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromMinutes(5);

    /// <summary>A bound for recovery, not a timing assertion: well under <see cref="LeaseDuration"/>.</summary>
    public static readonly TimeSpan RecoveryBound = TimeSpan.FromMinutes(3);

    /// <summary>A start takes 3-5 s here, over 10 s while other builds load both cores.</summary>
    public static readonly TimeSpan ReadyBound = TimeSpan.FromSeconds(60);

    /// <summary>How long a portal may take to reach its fault point after the work it needs was submitted.</summary>
    public static readonly TimeSpan FaultBound = TimeSpan.FromSeconds(90);

    public const string ConsoleLogDirectory = "/var/log/libvirt/qemu";

    private readonly DirectoryInfo directory;
    private readonly string tag;
    private readonly List<Guid> requestIds = [];
    private readonly List<KillRecord> kills = [];
    private readonly List<PortalProcess> processes = [];
    private readonly HashSet<Guid> domainsBefore;
    private readonly HashSet<string> volumesBefore;
    private PortalDatabase? database;
    private Actor? member;
    private int vmNumber;
    private bool verified;

    private CrashScenario(DirectoryInfo directory, HarnessLog log, string tag, HashSet<Guid> domainsBefore, HashSet<string> volumesBefore)
    {
        this.directory = directory;
        Log = log;
        this.tag = tag;
        this.domainsBefore = domainsBefore;
        this.volumesBefore = volumesBefore;
    }

    public HarnessLog Log { get; }

    public IReadOnlyList<KillRecord> Kills => kills;

    public IReadOnlyList<Guid> RequestIds => requestIds;

    /// <summary>The portal process started last (alive or not).</summary>
    public PortalProcess? Current => processes.Count == 0 ? null : processes[^1];

    public DateTimeOffset LastSubmitAt { get; private set; }

    private string DatabasePath => Path.Combine(directory.FullName, "portal.db");

    /// <summary>
    /// A new scenario; <paramref name="logDirectory"/> keeps its log. What the host has now (domains,
    /// pool volumes) is remembered, so that anything new that is not one of this portal's resources shows up as an orphan.
    /// </summary>
    public static async Task<CrashScenario> CreateAsync(string name, string logDirectory, Action<string>? echo, CancellationToken ct)
    {
        var tag = Guid.NewGuid().ToString("N")[..6];
        var log = new HarnessLog(Path.Combine(logDirectory, $"{DateTime.Now:yyyyMMdd-HHmmss}-{name}-{tag}.log"), echo);
        var directory = Directory.CreateTempSubdirectory("virtportal-recovery-");
        var domains = (await Virsh.AllUuidsAsync(ct)).ToHashSet();
        var volumes = (await Virsh.VolumesAsync(ct)).ToHashSet(StringComparer.Ordinal);
        log.Say($"scenario {name} ({tag}): log {log.Path}; {domains.Count} domains and {volumes.Count} pool volumes on the host before it");
        return new CrashScenario(directory, log, tag, domains, volumes);
    }

    /// <summary>Starts a portal (with a fault point or none) and returns at once.</summary>
    public PortalProcess Launch(FaultInjection? fault)
    {
        if (Current is { HasExited: false })
            throw new InvalidOperationException("A portal of this scenario is still running; kill it first.");
        var settings = new Dictionary<string, string>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["ConnectionStrings:Portal"] = $"Data Source={DatabasePath}",
            ["DataDirectory"] = directory.FullName,
            ["Bootstrap:AdminEmail"] = "admin@recovery.virtportal.local",
            ["Bootstrap:AdminPassword"] = "recovery-harness-admin",
            ["Demo:Enabled"] = "true",
            ["Hosts:List:0:Name"] = "local",
            ["Hosts:List:0:Driver"] = "Libvirt",
            ["Hosts:List:0:Uri"] = Virsh.Uri,
            // TCG: KVM cannot run guests on these machines.
            ["Hosts:List:0:DomainType"] = "qemu",
            ["Databases:FirstRun"] = "none",
            // Cross-process work (the harness's submits) is only seen by polling.
            ["Provisioning:IdleDelay"] = "00:00:00.100",
            ["Provisioning:LeaseDuration"] = LeaseDuration.ToString("c", CultureInfo.InvariantCulture),
            ["FaultInjection:KillAt"] = fault?.KillAt ?? "",
            ["FaultInjection:KillOnHit"] = (fault?.KillOnHit ?? 1).ToString(CultureInfo.InvariantCulture),
        };
        var portal = PortalProcess.Launch(processes.Count + 1, settings, Log);
        processes.Add(portal);
        return portal;
    }

    /// <summary>Starts a portal and waits until it serves /healthz; the first start also opens the database for the harness.</summary>
    public async Task<PortalProcess> StartAsync(FaultInjection? fault, CancellationToken ct)
    {
        var portal = Launch(fault);
        try
        {
            await portal.WaitUntilReadyAsync(ReadyBound, ct);
        }
        catch (TimeoutException e) when (StaleMigrationLock() is { } since)
        {
            throw new TimeoutException(
                $"{e.Message}: __EFMigrationsLock holds a row since {since}, left by a process killed while it migrated; every later start waits for it for ever. See {Log.Path}", e);
        }

        Log.Say($"portal#{portal.Generation} ready at {portal.BaseAddress} after {Since(portal.StartedAt)}");
        if (database is null)
        {
            database = PortalDatabase.Open(DatabasePath);
            member = await database.DemoMemberAsync(ct);
        }

        return portal;
    }

    /// <summary>The demo member submits <paramref name="count"/> tiny VMs, one after another (each auto-approves).</summary>
    public async Task SubmitAsync(int count, CancellationToken ct)
    {
        var db = database ?? throw new InvalidOperationException("Start a portal first: it creates the database.");
        for (var i = 0; i < count; i++)
        {
            var name = $"rc{tag}-{++vmNumber}";
            requestIds.Add(await db.SubmitTinyVmAsync(member!, name, ct));
        }

        LastSubmitAt = DateTimeOffset.UtcNow;
        Log.Say($"submitted {count} tiny VMs ({requestIds.Count} in all)");
    }

    /// <summary>Waits for the current portal to kill itself at its fault point; fails when it exits otherwise or not at all.</summary>
    public async Task<KillRecord> ExpectFaultKillAsync(FaultInjection fault, CancellationToken ct)
    {
        var portal = Current ?? throw new InvalidOperationException("No portal was started.");
        int exitCode;
        try
        {
            exitCode = await portal.Exited.WaitAsync(FaultBound, ct);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"portal#{portal.Generation} did not kill itself at {fault} within {FaultBound.TotalSeconds:0} s; see {Log.Path}");
        }

        if (exitCode != PortalProcess.SigkillExitCode)
            throw new InvalidOperationException($"portal#{portal.Generation} exited with code {exitCode}, not by SIGKILL at {fault}; see {Log.Path}");
        return await RecordKillAsync($"portal#{portal.Generation} killed itself at {fault}", ct);
    }

    /// <summary>The harness SIGKILLs the current portal, wherever it is.</summary>
    public async Task<KillRecord> KillAsync(string why, CancellationToken ct)
    {
        var portal = Current ?? throw new InvalidOperationException("No portal was started.");
        if (portal.HasExited)
            throw new InvalidOperationException($"portal#{portal.Generation} is already gone (exit code {await portal.Exited}); see {Log.Path}");
        await portal.KillAsync();
        return await RecordKillAsync($"harness SIGKILLed portal#{portal.Generation} {why}", ct);
    }

    /// <summary>
    /// Waits until the current portal takes EF Core's migration lock at start-up (true), or listens
    /// without one being seen (false), so that a kill can land inside MigrateAsync. The lock is a row
    /// in __EFMigrationsLock, polled here as fast as SQLite answers.
    /// </summary>
    public async Task<bool> WaitForMigrationLockAsync(CancellationToken ct)
    {
        var portal = Current ?? throw new InvalidOperationException("No portal was started.");
        await using var connection = new SqliteConnection($"Data Source={DatabasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT EXISTS (SELECT 1 FROM __EFMigrationsLock)";
        var clock = Stopwatch.StartNew();
        while (!portal.Listening.IsCompleted && !portal.HasExited && clock.Elapsed < ReadyBound)
        {
            if (Convert.ToInt64(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture) == 1)
            {
                Log.Say($"portal#{portal.Generation} holds the migration lock, {Since(portal.StartedAt)} after its launch");
                return true;
            }

            await Task.Delay(1, ct);
        }

        Log.Say($"portal#{portal.Generation} took no migration lock that could be seen before it listened");
        return false;
    }

    /// <summary>
    /// Polls the database until every request of the scenario is closed and no operation is open;
    /// returns the time since the current portal was launched. Fails when the current portal dies or
    /// <see cref="RecoveryBound"/> passes.
    /// </summary>
    public async Task<TimeSpan> WaitForRecoveryAsync(CancellationToken ct)
    {
        var portal = Current ?? throw new InvalidOperationException("No portal was started.");
        var db = database ?? throw new InvalidOperationException("No database yet.");
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (portal.HasExited)
                throw new InvalidOperationException($"portal#{portal.Generation} died while recovering (exit code {await portal.Exited}); see {Log.Path}");
            await using (var context = db.NewDb())
            {
                var open = await context.Requests.CountAsync(r => requestIds.Contains(r.Id) && (r.State == RequestState.Submitted
                    || r.State == RequestState.PendingApproval || r.State == RequestState.Approved || r.State == RequestState.Provisioning), ct);
                var unfinished = await context.Operations.CountAsync(o => o.State == OperationState.Pending || o.State == OperationState.Running, ct);
                if (open == 0 && unfinished == 0)
                    break;
                if (clock.Elapsed > RecoveryBound)
                {
                    throw new TimeoutException(
                        $"not recovered within {RecoveryBound.TotalMinutes:0} min: {open} requests open, {unfinished} operations unfinished; see {Log.Path}");
                }
            }

            await Task.Delay(200, ct);
        }

        var took = DateTimeOffset.UtcNow - portal.StartedAt;
        Log.Say($"recovered: every request closed and no operation open {took.TotalSeconds:0.0} s after portal#{portal.Generation} was launched");
        return took;
    }

    /// <summary>
    /// What is wrong after recovery, in words (empty when nothing): each request Completed with its
    /// domain running as virsh sees it, one domain per resource, no domain or disk the portal does not
    /// account for, no open operation, and each operation a dead process had leased taken over before
    /// that lease would have run out.
    /// </summary>
    public async Task<IReadOnlyList<string>> VerifyAsync(CancellationToken ct)
    {
        var db = database ?? throw new InvalidOperationException("No database yet.");
        var problems = new List<string>();
        await using var context = db.NewDb();
        var requests = await context.Requests.AsNoTracking().Where(r => requestIds.Contains(r.Id)).ToListAsync(ct);
        var resources = await context.Resources.AsNoTracking().ToListAsync(ct);
        var operations = await context.Operations.AsNoTracking().ToListAsync(ct);
        var takeovers = await context.AuditEntries.AsNoTracking().Where(e => e.Action == "operation.taken-over").ToListAsync(ct);
        var names = await Virsh.AllNamesAsync(ct);
        var uuids = await Virsh.AllUuidsAsync(ct);
        var volumes = await Virsh.VolumesAsync(ct);

        if (requests.Count != requestIds.Count)
            problems.Add($"{requestIds.Count} requests were submitted, the database has {requests.Count}");
        foreach (var request in requests)
        {
            var resource = resources.FirstOrDefault(r => r.Id == request.ResourceId);
            if (request.State != RequestState.Completed)
                problems.Add($"request {request.Name} is {request.State}, not Completed{(request.Reason is { Length: > 0 } reason ? ": " + reason : "")}");
            if (resource is null)
                problems.Add($"request {request.Name} has no resource");
            else if (resource.State != ResourceState.Running)
                problems.Add($"{resource.Name} is {resource.State} in the portal, not Running");
        }

        foreach (var operation in operations.Where(o => o.State is OperationState.Pending or OperationState.Running))
            problems.Add($"operation {operation.Id} ({operation.Kind}) is left {operation.State}, attempt {operation.Attempts}");
        foreach (var operation in operations.Where(o => o.State == OperationState.Failed))
            problems.Add($"operation {operation.Id} ({operation.Kind}) failed: {operation.LastError}");

        var expected = new HashSet<Guid>();
        foreach (var resource in resources)
        {
            var name = ResourceLifecycle.DomainName(resource);
            var live = resource.State == ResourceState.Running;
            var sameName = names.Count(n => n == name);
            var sameUuid = uuids.Count(u => u == resource.Id);
            if (!live)
            {
                if (sameName + sameUuid > 0)
                    problems.Add($"orphan: {resource.Name} is {resource.State} in the portal, but the host has domain {name}");
                continue;
            }

            expected.Add(resource.Id);
            if (sameName != 1 || sameUuid != 1)
            {
                problems.Add($"{resource.Name}: the host has {sameName} domains named {name} and {sameUuid} with UUID {resource.Id}, not one");
                continue;
            }

            var state = await Virsh.DomStateAsync(resource.Id.ToString("D"), ct);
            var info = await Virsh.DomInfoAsync(resource.Id.ToString("D"), ct);
            if (state != "running")
                problems.Add($"{resource.Name}: virsh domstate {name} says '{state}', the portal says {resource.State}");
            if (info is null)
                problems.Add($"{resource.Name}: virsh dominfo {resource.Id} failed");
            else if (info.Name != name || info.VCpus != resource.VCpus || info.MaxMemoryKiB != resource.RamMiB * 1024L)
                problems.Add($"{resource.Name}: virsh dominfo says {info}, the portal says {name}, {resource.VCpus} vCPU, {resource.RamMiB} MiB");
        }

        // A domain of the portal's kind ("vp-" and 12 hex digits) that appeared during the scenario and is none of its running resources.
        foreach (var uuid in uuids.Where(u => !domainsBefore.Contains(u) && !expected.Contains(u) && !resources.Any(r => r.Id == u)))
        {
            var info = await Virsh.DomInfoAsync(uuid.ToString("D"), ct);
            if (info is not null && PortalDomainName().IsMatch(info.Name))
                problems.Add($"orphan: domain {info.Name} ({uuid}, {info.State}) appeared during the scenario and is no resource of this portal");
        }

        // Disks are qcow2 overlays named after the resource's UUID (when the pool holds the template's base image).
        var overlays = volumes.Where(v => !volumesBefore.Contains(v) && OverlayName().IsMatch(v)).ToList();
        foreach (var overlay in overlays.Where(v => !expected.Contains(Guid.Parse(v[..36]))))
            problems.Add($"orphan: pool volume {overlay} belongs to no running resource");
        if (volumes.Contains("vp-tiny.qcow2"))
        {
            foreach (var id in expected.Where(id => !overlays.Contains($"{id:D}.qcow2")))
                problems.Add($"{resources.First(r => r.Id == id).Name} has no disk {id:D}.qcow2 in pool {Virsh.Pool}");
        }

        // An operation still leased by the same dead owner at a later kill (nobody took it over in between) is judged once.
        var leases = kills.SelectMany(k => k.Leased.Select(l => (Kill: k, Leased: l))).DistinctBy(x => (x.Leased.Id, x.Leased.LeaseOwner));
        foreach (var (kill, leased) in leases)
        {
            var taken = takeovers.Where(e => e.Target == $"operation {leased.Id}" && e.At > kill.At).Select(e => e.At).Order().ToList();
            if (taken.Count == 0)
                problems.Add($"kill #{kill.Number}: {leased.Kind} of {leased.Resource}, leased by the dead {leased.LeaseOwner}, has no operation.taken-over entry");
            else if (taken[0] >= leased.LeaseExpiresAt)
                problems.Add($"kill #{kill.Number}: {leased.Kind} of {leased.Resource} was taken over at {taken[0]:HH:mm:ss.fff}, only once the dead process's lease ran out ({leased.LeaseExpiresAt:HH:mm:ss.fff})");
            else
                Log.Say($"kill #{kill.Number}: {leased.Kind} of {leased.Resource} taken over {(taken[0] - kill.At).TotalSeconds:0.0} s after the kill, {(leased.LeaseExpiresAt - taken[0]).TotalSeconds:0} s before its lease would have run out");
        }

        // What an admin would see in /admin/drift about this portal's own VMs: never "unknown", not even
        // for a moment (a resolved row counts too), since an admin might delete a VM the portal is about to start.
        var ids = resources.Select(r => r.Id).ToList();
        foreach (var drift in await context.Drifts.AsNoTracking().Where(d => ids.Contains(d.DomainId)).ToListAsync(ct))
        {
            var line = $"drift about {drift.DomainName}: {drift.Kind}, portal says {drift.PortalView}, hypervisor says {drift.HypervisorView}{(drift.ResolvedAt is null ? "" : " (since cleared)")}";
            if (drift.Kind == VirtPortal.Core.Reconciliation.DriftKind.Unknown)
                problems.Add("the reconciler called one of the portal's own domains unknown: " + line);
            else
                Log.Say("note: " + line);
        }

        Log.Say(problems.Count == 0
            ? $"verified: {requests.Count} requests Completed, {expected.Count} domains running once each, no orphan, no open operation, {kills.Count} kills"
            : $"{problems.Count} problems:\n  " + string.Join("\n  ", problems));
        verified = problems.Count == 0;
        return problems;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var portal in processes)
            await portal.DisposeAsync();

        var owned = new List<(Guid Id, string Name)>();
        if (database is not null)
        {
            await using (var context = database.NewDb())
            {
                owned = [.. (await context.Resources.AsNoTracking().ToListAsync(CancellationToken.None)).Select(r => (r.Id, ResourceLifecycle.DomainName(r)))];
            }

            await database.DisposeAsync();
        }

        // Side by side: destroying a guest that is still booting takes a second or two.
        var removals = await Task.WhenAll(owned.Select(async o => $"cleanup {o.Name}: {await Virsh.RemoveAsync(o.Id, o.Name, ConsoleLogDirectory, CancellationToken.None)}"));
        foreach (var removal in removals)
            Log.Say(removal);

        if (!verified && File.Exists(DatabasePath))
        {
            // The database tells what the portal believed; keep it next to the log.
            foreach (var suffix in new[] { "", "-wal", "-shm" })
            {
                if (File.Exists(DatabasePath + suffix))
                    File.Copy(DatabasePath + suffix, Path.ChangeExtension(Log.Path, ".db" + suffix), overwrite: true);
            }

            Log.Say($"the database is kept next to the log: {Path.ChangeExtension(Log.Path, ".db")}");
        }

        directory.Delete(recursive: true);
        Log.Dispose();
    }

    private async Task<KillRecord> RecordKillAsync(string how, CancellationToken ct)
    {
        var at = DateTimeOffset.UtcNow;
        var leased = new List<LeasedOperation>();
        var states = new Dictionary<string, string>(StringComparer.Ordinal);
        var open = 0;
        if (database is not null)
        {
            await using var context = database.NewDb();
            var operations = await context.Operations.AsNoTracking()
                .Where(o => o.State == OperationState.Pending || o.State == OperationState.Running).ToListAsync(ct);
            var resources = await context.Resources.AsNoTracking().ToListAsync(ct);
            open = operations.Count;
            foreach (var operation in operations.Where(o => o.State == OperationState.Running))
            {
                var resource = resources.First(r => r.Id == operation.ResourceId);
                leased.Add(new LeasedOperation(operation.Id, operation.Kind, resource.Name, operation.LeaseOwner, operation.LeaseExpiresAt ?? at));
            }

            foreach (var resource in resources)
                states[resource.Name] = await Virsh.DomStateAsync(resource.Id.ToString("D"), ct) ?? "not defined";
        }

        var record = new KillRecord(kills.Count + 1, how, at, leased, states);
        kills.Add(record);
        Log.Say($"kill #{record.Number}: {how}; {open} operations open, {leased.Count} leased by the dead process"
            + (leased.Count == 0 ? "" : $" ({string.Join(", ", leased.Select(l => $"{l.Kind} of {l.Resource}"))})")
            + $"; on the host: {(states.Count == 0 ? "nothing yet" : string.Join(", ", states.Select(s => $"{s.Key} {s.Value}")))}");
        return record;
    }

    /// <summary>
    /// EF Core's migration lock on SQLite is a row in __EFMigrationsLock that only its holder deletes: when
    /// a start-up is killed inside MigrateAsync, the row stays. Returns when it was taken, or null.
    /// </summary>
    private string? StaleMigrationLock()
    {
        using var connection = new SqliteConnection($"Data Source={DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '__EFMigrationsLock'";
        if (command.ExecuteScalar() is null)
            return null;
        command.CommandText = "SELECT Timestamp FROM __EFMigrationsLock LIMIT 1";
        return command.ExecuteScalar() as string;
    }

    private static string Since(DateTimeOffset start) => $"{(DateTimeOffset.UtcNow - start).TotalSeconds:0.0} s";

    [GeneratedRegex("^vp-[0-9a-f]{12}$")]
    private static partial Regex PortalDomainName();

    [GeneratedRegex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\.qcow2$")]
    private static partial Regex OverlayName();
}
