using VirtPortal.Core.Access;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Common;
using VirtPortal.Core.Data;
using VirtPortal.Core.Live;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Hosts;

/// <summary>
/// A host as the hosts page shows it: settings, facts, state and what is placed on it. <see cref="DomainType"/>
/// is the type its VMs get; with <see cref="DomainTypeFromCapabilities"/> the portal chose it.
/// </summary>
public sealed record HostView(
    Guid Id, string Name, HostDriver Driver, string Uri, string DomainType, HostState State, double CpuOvercommit, double RamOvercommit,
    int Cpus, long MemoryMiB, long StorageGiB, int AllocatedVCpus, long AllocatedRamMiB, long AllocatedDiskGiB, int Vms,
    DateTimeOffset? LastSeenAt, string? LastError, bool DomainTypeFromCapabilities, bool? KvmAvailable, string? AccelerationReason, long SettingsVersion)
{
    /// <summary>"KVM available" or "software emulation (slower)" for a libvirt host whose capabilities were read.</summary>
    public string? AccelerationLabel => HostAcceleration.Label(Driver, KvmAvailable);

    /// <summary>Set when the host runs kvm domains where KVM cannot run guests.</summary>
    public string? Warning => HostAcceleration.Warning(Name, Driver, DomainType, KvmAvailable, AccelerationReason);

    /// <summary>vCPUs placement may hand out: CPUs × CPU overcommit.</summary>
    public double VCpuCapacity => Cpus * CpuOvercommit;

    /// <summary>RAM placement may hand out: memory × RAM overcommit.</summary>
    public double RamCapacityMiB => MemoryMiB * RamOvercommit;

    public HostInput ToInput() => new(Name, Driver, Uri, DomainTypeFromCapabilities ? HostAcceleration.Auto : DomainType, CpuOvercommit, RamOvercommit);
}

/// <summary>
/// What a connection test found: the host's facts, or the hypervisor's own words for why not; with a
/// <see cref="Warning"/> when the domain type tested is kvm and KVM cannot run guests there.
/// </summary>
public sealed record ConnectionTest(HostFacts? Facts, string? Error, string? Warning = null)
{
    public bool Succeeded => Facts is not null;
}

/// <summary>
/// The hypervisor hosts VMs are placed on. Admins list, add, change, test, put in maintenance and
/// remove them; every change is audited in its own SaveChanges and announced with
/// <see cref="HostChanged"/> once committed. Start-up registers the configured hosts, or on first run
/// one host of its own choosing.
/// </summary>
public sealed partial class HostService(
    IDbContextFactory<PortalDbContext> dbFactory, PortalAccess access, HypervisorRegistry registry, IOptions<HostOptions> options, TimeProvider time,
    LiveUpdates live, ILogger<HostService> logger)
{
    private const int LastErrorMaxLength = 2000;

    /// <summary>
    /// Start-up: registers every host of <c>Hosts:List</c> that is missing (by name). With no list, the
    /// first run registers one host: the local libvirt when its socket is there and the adapter is
    /// available (or configuration asks for it), otherwise the simulated host "demo".
    /// </summary>
    public async Task EnsureHostsAsync(CancellationToken ct)
    {
        if (options.Value.List.Count == 0)
        {
            await EnsureFirstHostAsync(ct);
            return;
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var known = (await db.Hosts.Select(h => h.Name).ToListAsync(ct)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var missing = options.Value.List.Select(c => HostRules.Normalize(c.ToInput())).Where(c => !known.Contains(c.Name)).Select(NewHost).ToList();
        if (missing.Count == 0)
            return;
        // Side by side: one unreachable host must not hold up the others for its whole timeout.
        var probes = await Task.WhenAll(missing.Select(h => ProbeAsync(h, ct)));
        foreach (var (host, probe) in missing.Zip(probes))
        {
            await ApplyAsync(host, probe);
            db.Hosts.Add(host);
            db.Record(time, Actor.System, AuditActions.HostRegistered, $"host {host.Name}", null, $"from configuration: {Describe(host)}; {host.State}{Acceleration(host)}");
        }

        await db.SaveChangesAsync(ct);
        foreach (var host in missing)
        {
            LogRegistered(host.Name, host.Driver, host.Uri);
            LogAcceleration(host);
            live.Publish(new HostChanged(host.Id));
        }
    }

    /// <summary>Online hosts and what is placed on each, for placement.</summary>
    public static async Task<List<HostLoad>> LoadsAsync(PortalDbContext db, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        var hosts = await db.Hosts.AsNoTracking().ToListAsync(ct);
        var allocated = await Live(db.Resources.AsNoTracking())
            .GroupBy(r => r.HostId)
            .Select(g => new { HostId = g.Key, VCpus = g.Sum(r => r.VCpus), Ram = g.Sum(r => (long)r.RamMiB), Disk = g.Sum(r => (long)r.DiskGiB), Count = g.Count() })
            .ToListAsync(ct);
        return [.. hosts.Select(h =>
        {
            var a = allocated.FirstOrDefault(x => x.HostId == h.Id);
            return new HostLoad(h, a?.VCpus ?? 0, a?.Ram ?? 0, a?.Disk ?? 0, a?.Count ?? 0);
        })];
    }

    [Requires(Permission.HostsManage)]
    public async Task<IReadOnlyList<HostView>> ListAsync(Actor actor, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await access.RequireAsync(db, actor, Permission.HostsManage, AccessTarget.Portal, "view hosts", ct);
        return [.. (await LoadsAsync(db, ct)).OrderBy(l => l.Host.Name, StringComparer.OrdinalIgnoreCase).Select(ToView)];
    }

    /// <summary>
    /// Registers a host after asking it for its facts. A host that does not answer is registered all
    /// the same, as Unreachable with the hypervisor's words, so an admin can add a host that is down.
    /// </summary>
    [Requires(Permission.HostsManage)]
    public async Task<HostView> AddAsync(Actor actor, HostInput input, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await access.RequireAsync(db, actor, Permission.HostsManage, AccessTarget.Portal, "add host", ct);
        input = await ValidateAsync(db, input, null, ct);
        var host = NewHost(input);
        await ApplyAsync(host, await ProbeAsync(host, ct));
        db.Hosts.Add(host);
        db.Record(time, actor, AuditActions.HostRegistered, $"host {host.Name}", null, $"{Describe(host)}; {host.State}{Acceleration(host)}");
        try
        {
            await SaveAsync(db, ct);
        }
        finally
        {
            // Saved or not, a failed save must not leave an adapter for an id that names no host.
            if (db.Entry(host).State != EntityState.Unchanged)
                await registry.EvictAsync(host.Id);
        }

        LogRegistered(host.Name, host.Driver, host.Uri);
        LogAcceleration(host);
        live.Publish(new HostChanged(host.Id));
        return await ViewAsync(db, host.Id, ct);
    }

    /// <summary>
    /// Changes a host's settings. A new URI, driver, name or domain type drops the adapter the portal
    /// held for it and asks the host again; the driver stays while VMs are placed on the host. The
    /// saved view carries a <see cref="HostView.Warning"/> when the host runs kvm where KVM cannot run guests.
    /// </summary>
    [Requires(Permission.HostsManage)]
    public Task<HostView> UpdateAsync(Actor actor, Guid hostId, HostInput input, CancellationToken ct = default) =>
        UpdateAsync(actor, hostId, input, expectedVersion: null, ct);

    /// <summary>The same, only while the host's settings are at <paramref name="expectedVersion"/> (the API's If-Match) when one is given.</summary>
    [Requires(Permission.HostsManage)]
    public async Task<HostView> UpdateAsync(Actor actor, Guid hostId, HostInput input, long? expectedVersion, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await access.RequireAsync(db, actor, Permission.HostsManage, AccessTarget.Portal, "change host", ct);
        var host = await FindAsync(db, hostId, ct);
        var versioned = Versioned(host);
        SettingsVersions.RequireVersion(host, expectedVersion, versioned);
        if (input.Driver != host.Driver && await Live(db.Resources).CountAsync(r => r.HostId == hostId, ct) is var vms and > 0)
            throw new PortalValidationException(nameof(HostInput.Driver), $"{host.Name} has {vms} VM(s) placed on it; its driver cannot change until they are gone.");
        input = await ValidateAsync(db, input, hostId, ct);
        var before = Describe(host);
        var sameMachine = input.Driver == host.Driver && input.Uri == host.Uri;
        if (!sameMachine)
        {
            // What the old URI said about KVM describes another machine.
            (host.KvmAvailable, host.AccelerationReason) = (null, null);
        }

        var fromCapabilities = FromCapabilities(input);
        var domainType = fromCapabilities ? HostAcceleration.Choose(input.Uri, host.KvmAvailable) : input.DomainType;
        var reconnect = input.Name != host.Name || !sameMachine || domainType != host.DomainType || fromCapabilities != host.DomainTypeFromCapabilities;
        (host.Name, host.Driver, host.Uri, host.DomainType, host.DomainTypeFromCapabilities, host.CpuOvercommit, host.RamOvercommit) =
            (input.Name, input.Driver, input.Uri, domainType, fromCapabilities, input.CpuOvercommit, input.RamOvercommit);
        if (reconnect)
        {
            await registry.EvictAsync(host.Id);
            await ApplyAsync(host, await ProbeAsync(host, ct));
        }

        db.Record(time, actor, AuditActions.HostUpdated, $"host {host.Name}", null, $"from {before} to {Describe(host)}{Acceleration(host)}");
        await SettingsVersions.SaveAsync(db, host, () => SaveAsync(db, ct), versioned, ct);
        if (reconnect)
            LogAcceleration(host);
        live.Publish(new HostChanged(host.Id));
        return await ViewAsync(db, host.Id, ct);
    }

    /// <summary>Asks a host that is not registered yet for its facts, through an adapter made for the test and disposed after it.</summary>
    [Requires(Permission.HostsManage)]
    public async Task<ConnectionTest> TestDraftAsync(Actor actor, HostInput input, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await access.RequireAsync(db, actor, Permission.HostsManage, AccessTarget.Portal, "test host connection", ct);
        input = HostRules.Normalize(input);
        var errors = HostRules.Errors(input, registry.Supports);
        if (errors.Count > 0)
            throw new PortalValidationException(errors);
        var draft = NewHost(input);
        var adapter = registry.CreateDetached(draft);
        var call = adapter.GetHostFactsAsync(ct);
        ConnectionTest result;
        try
        {
            result = await WithinTimeoutAsync(call, ct);
        }
        finally
        {
            // A call that timed out may still be talking to the host: dispose once it ends.
            _ = DisposeWhenDoneAsync(call, adapter);
        }

        result = result with
        {
            Warning = HostAcceleration.Warning(input.Name, input.Driver, input.DomainType, result.Facts?.KvmAvailable, result.Facts?.AccelerationReason),
        };
        db.Record(time, actor, AuditActions.HostTested, $"host {input.Name}", null, $"draft {input.Driver} at {input.Uri}: {Outcome(result)}");
        await db.SaveChangesAsync(ct);
        return result;
    }

    /// <summary>Asks a registered host for its facts and records what it said: facts, state, last seen, last error.</summary>
    [Requires(Permission.HostsManage)]
    public async Task<ConnectionTest> TestAsync(Actor actor, Guid hostId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await access.RequireAsync(db, actor, Permission.HostsManage, AccessTarget.Portal, "test host connection", ct);
        var host = await FindAsync(db, hostId, ct);
        var result = await ProbeAsync(host, ct);
        await ApplyAsync(host, result);
        result = result with { Warning = Warning(host) };
        db.Record(time, actor, AuditActions.HostTested, $"host {host.Name}", null, Outcome(result));
        await SaveAsync(db, ct);
        live.Publish(new HostChanged(host.Id));
        return result;
    }

    /// <summary>
    /// Maintenance: the host runs what it has and gets nothing new (placement takes Online hosts only;
    /// the reconciler leaves it alone). Ending it asks the host again, so it returns Online or Unreachable.
    /// </summary>
    [Requires(Permission.HostsManage)]
    public Task SetMaintenanceAsync(Actor actor, Guid hostId, bool maintenance, CancellationToken ct = default) =>
        SetMaintenanceAsync(actor, hostId, maintenance, expectedVersion: null, ct);

    /// <summary>The same, only while the host's settings are at <paramref name="expectedVersion"/> (the API's If-Match) when one is given.</summary>
    [Requires(Permission.HostsManage)]
    public async Task SetMaintenanceAsync(Actor actor, Guid hostId, bool maintenance, long? expectedVersion, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await access.RequireAsync(db, actor, Permission.HostsManage, AccessTarget.Portal, maintenance ? "start host maintenance" : "end host maintenance", ct);
        var host = await FindAsync(db, hostId, ct);
        SettingsVersions.RequireVersion(host, expectedVersion, Versioned(host));
        if ((host.State == HostState.Maintenance) == maintenance)
            return;
        if (maintenance)
        {
            host.State = HostState.Maintenance;
        }
        else
        {
            host.State = HostState.Unreachable;
            await ApplyAsync(host, await ProbeAsync(host, ct));
        }

        db.Record(time, actor, maintenance ? AuditActions.HostMaintenanceStarted : AuditActions.HostMaintenanceEnded, $"host {host.Name}", null,
            maintenance ? "no new VMs are placed on it" : $"back in service: {host.State}");
        await SettingsVersions.SaveAsync(db, host, () => SaveAsync(db, ct), Versioned(host), ct);
        live.Publish(new HostChanged(host.Id));
    }

    /// <summary>Forgets a host with nothing live placed on it; its open drift goes with it, and its past resources keep their placement reason.</summary>
    [Requires(Permission.HostsManage)]
    public async Task RemoveAsync(Actor actor, Guid hostId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await access.RequireAsync(db, actor, Permission.HostsManage, AccessTarget.Portal, "remove host", ct);
        var host = await FindAsync(db, hostId, ct);
        var placed = await Live(db.Resources.AsNoTracking()).Where(r => r.HostId == hostId).OrderBy(r => r.Name).Select(r => r.Name).ToListAsync(ct);
        if (placed.Count > 0)
        {
            var names = string.Join(", ", placed.Take(3)) + (placed.Count > 3 ? ", …" : "");
            throw new PortalValidationException("", $"{host.Name} still has {placed.Count} VM(s) placed on it ({names}). Delete them first; until then, maintenance keeps new ones away.");
        }

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Resources.Where(r => r.HostId == hostId).ExecuteUpdateAsync(s => s.SetProperty(r => r.HostId, (Guid?)null), ct);
        await db.Drifts.Where(d => d.HostId == hostId).ExecuteDeleteAsync(ct);
        db.Hosts.Remove(host);
        db.Record(time, actor, AuditActions.HostRemoved, $"host {host.Name}", null, Describe(host));
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        await registry.EvictAsync(hostId);
        LogRemoved(host.Name);
        live.Publish(new HostChanged(hostId));
    }

    private async Task EnsureFirstHostAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await db.Hosts.AnyAsync(ct))
            return;
        var settings = options.Value;
        var useLibvirt = settings.FirstRun switch
        {
            "libvirt" => true,
            "simulated" => false,
            _ => registry.Supports(HostDriver.Libvirt) && File.Exists(settings.LocalLibvirtSocket),
        };
        // Hosts:LocalDomainType "auto" (the default) lets the host's capabilities choose kvm or qemu.
        var host = useLibvirt
            ? NewHost(HostRules.Normalize(new HostInput("local", HostDriver.Libvirt, settings.LocalLibvirtUri, settings.LocalDomainType, 4, 1)))
            : NewHost(new HostInput("demo", HostDriver.Simulated, "simulated://demo", HostRules.SimulatedDomainType, 4, 1));
        await ApplyAsync(host, await ProbeAsync(host, ct));
        db.Hosts.Add(host);
        db.Record(time, Actor.System, AuditActions.HostRegistered, $"host {host.Name}", null, $"{Describe(host)}: {host.State}{Acceleration(host)}");
        await db.SaveChangesAsync(ct);
        LogRegistered(host.Name, host.Driver, host.Uri);
        LogAcceleration(host);
    }

    private static IQueryable<Resource> Live(IQueryable<Resource> resources) =>
        resources.Where(r => r.HostId != null && r.State != ResourceState.Deleted && r.State != ResourceState.Failed);

    private static bool FromCapabilities(HostInput input) => input.Driver == HostDriver.Libvirt && input.DomainType == HostAcceleration.Auto;

    private Host NewHost(HostInput input) => new()
    {
        Id = Guid.CreateVersion7(time.GetUtcNow()),
        Name = input.Name,
        Driver = input.Driver,
        Uri = input.Uri,
        // Until the host's capabilities are read, one that follows them runs qemu, which runs anywhere.
        DomainType = FromCapabilities(input) ? HostAcceleration.Choose(input.Uri, null) : input.DomainType,
        DomainTypeFromCapabilities = FromCapabilities(input),
        CpuOvercommit = input.CpuOvercommit,
        RamOvercommit = input.RamOvercommit,
        State = HostState.Unreachable,
        CreatedAt = time.GetUtcNow(),
    };

    private async Task<HostInput> ValidateAsync(PortalDbContext db, HostInput input, Guid? hostId, CancellationToken ct)
    {
        input = HostRules.Normalize(input);
        var errors = HostRules.Errors(input, registry.Supports);
        // The name column compares case-insensitively (NOCASE), as the unique index does.
        if (!errors.ContainsKey(nameof(HostInput.Name)) && await db.Hosts.AnyAsync(h => h.Name == input.Name && h.Id != hostId, ct))
            errors[nameof(HostInput.Name)] = [$"A host named {input.Name} is already registered."];
        if (!errors.ContainsKey(nameof(HostInput.Uri))
            && await db.Hosts.Where(h => h.Uri == input.Uri && h.Id != hostId).Select(h => h.Name).FirstOrDefaultAsync(ct) is { } twin)
            errors[nameof(HostInput.Uri)] = [$"Host {twin} already connects to {input.Uri}."];
        return errors.Count > 0 ? throw new PortalValidationException(errors) : input;
    }

    private async Task<ConnectionTest> ProbeAsync(Host host, CancellationToken ct)
    {
        Task<HostFacts> call;
        try
        {
            call = registry.For(host).GetHostFactsAsync(ct);
        }
        catch (HypervisorException e)
        {
            return new ConnectionTest(null, e.Message);
        }

        return await WithinTimeoutAsync(call, ct);
    }

    private async Task<ConnectionTest> WithinTimeoutAsync(Task<HostFacts> call, CancellationToken ct)
    {
        var timeout = options.Value.ConnectionTimeout;
        try
        {
            return new ConnectionTest(await call.WaitAsync(timeout, time, ct), null);
        }
        catch (HypervisorException e)
        {
            return new ConnectionTest(null, e.Message);
        }
        catch (TimeoutException)
        {
            return new ConnectionTest(null, string.Create(CultureInfo.InvariantCulture, $"The host did not answer within {timeout.TotalSeconds:0} seconds."));
        }
    }

    private static async Task DisposeWhenDoneAsync(Task call, IAsyncDisposable adapter)
    {
        await call.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await adapter.DisposeAsync();
    }

    /// <summary>
    /// Takes what a test found; a host in maintenance stays there whatever it said. A host whose domain
    /// type follows its capabilities may get another one, and then a new adapter made for it.
    /// </summary>
    private async Task ApplyAsync(Host host, ConnectionTest test)
    {
        if (test.Facts is { } facts)
        {
            (host.Cpus, host.MemoryMiB, host.StorageGiB) = (facts.Cpus, facts.MemoryMiB, facts.StorageCapacityGiB);
            if (HostAcceleration.Apply(host, facts))
                await registry.EvictAsync(host.Id);
            host.LastSeenAt = time.GetUtcNow();
            host.LastError = null;
            if (host.State != HostState.Maintenance)
                host.State = HostState.Online;
        }
        else
        {
            var error = test.Error ?? "The host did not answer.";
            host.LastError = error.Length > LastErrorMaxLength ? error[..LastErrorMaxLength] : error;
            if (host.State != HostState.Maintenance)
                host.State = HostState.Unreachable;
        }
    }

    /// <summary>Another admin may register the same name between our check and our save.</summary>
    private static Task SaveAsync(PortalDbContext db, CancellationToken ct) =>
        db.SaveUniqueAsync(nameof(HostInput.Name), "A host with that name was registered a moment ago.", ct);

    private static async Task<Host> FindAsync(PortalDbContext db, Guid hostId, CancellationToken ct) =>
        await db.Hosts.FirstOrDefaultAsync(h => h.Id == hostId, ct) ?? throw new PortalNotFoundException("That host is no longer registered.");

    /// <summary>How a stale change names the host ("Host kvm1 changed since you read it …").</summary>
    private static string Versioned(Host host) => $"Host {host.Name}";

    private static async Task<HostView> ViewAsync(PortalDbContext db, Guid hostId, CancellationToken ct) =>
        ToView((await LoadsAsync(db, ct)).Single(l => l.Host.Id == hostId));

    private static HostView ToView(HostLoad load)
    {
        var h = load.Host;
        return new HostView(h.Id, h.Name, h.Driver, h.Uri, h.DomainType, h.State, h.CpuOvercommit, h.RamOvercommit, h.Cpus, h.MemoryMiB, h.StorageGiB,
            load.AllocatedVCpus, load.AllocatedRamMiB, load.AllocatedDiskGiB, load.Vms, h.LastSeenAt, h.LastError,
            h.DomainTypeFromCapabilities, h.KvmAvailable, h.AccelerationReason, h.SettingsVersion);
    }

    private static string? Warning(Host host) => HostAcceleration.Warning(host.Name, host.Driver, host.DomainType, host.KvmAvailable, host.AccelerationReason);

    private static string Describe(Host host) => string.Create(CultureInfo.InvariantCulture,
        $"{host.Driver} at {host.Uri}{(host.Driver == HostDriver.Libvirt ? $" ({(host.DomainTypeFromCapabilities ? "auto: " : "")}{host.DomainType})" : "")}, overcommit CPU {host.CpuOvercommit}, RAM {host.RamOvercommit}");

    /// <summary>For the audit: what a libvirt host said about KVM, and the warning when it runs kvm without it.</summary>
    private static string Acceleration(Host host) =>
        HostAcceleration.Label(host.Driver, host.KvmAvailable) is { } label
            ? $"; {label}: {host.AccelerationReason}{(Warning(host) is { } warning ? $"; warning: {warning}" : "")}"
            : "";

    private static string Outcome(ConnectionTest test) => test.Facts is { } f
        ? string.Create(CultureInfo.InvariantCulture,
            $"answered: {f.Cpus} CPUs, {f.MemoryMiB} MiB, {f.StorageCapacityGiB} GiB, {f.Version}; {(f.KvmAvailable ? "KVM" : "no KVM")}: {f.AccelerationReason}{(test.Warning is { } w ? $"; warning: {w}" : "")}")
        : $"failed: {test.Error}";

    /// <summary>Why a libvirt host runs the domain type it runs, or the warning when that is kvm without KVM.</summary>
    private void LogAcceleration(Host host)
    {
        if (host.Driver != HostDriver.Libvirt)
            return;
        if (Warning(host) is { } warning)
            LogKvmWithoutKvm(host.Name, warning);
        else if (HostAcceleration.Label(host.Driver, host.KvmAvailable) is { } label)
            LogDomainType(host.Name, host.DomainType, host.DomainTypeFromCapabilities ? "chosen from its capabilities" : "as set", label, host.AccelerationReason ?? "");
        else if (host.DomainTypeFromCapabilities)
            LogCapabilitiesUnknown(host.Name, host.DomainType);
    }

    [LoggerMessage(LogLevel.Information, "Registered host {Name} ({Driver} at {Uri})")]
    private partial void LogRegistered(string name, HostDriver driver, string uri);

    [LoggerMessage(LogLevel.Information, "Host {Name} runs {DomainType} domains ({Source}): {Acceleration}, {Reason}")]
    private partial void LogDomainType(string name, string domainType, string source, string acceleration, string reason);

    [LoggerMessage(LogLevel.Warning, "Host {Name}: {Warning}")]
    private partial void LogKvmWithoutKvm(string name, string warning);

    [LoggerMessage(LogLevel.Information, "Host {Name} has not told its capabilities yet; it runs {DomainType} domains until it does")]
    private partial void LogCapabilitiesUnknown(string name, string domainType);

    [LoggerMessage(LogLevel.Information, "Removed host {Name}")]
    private partial void LogRemoved(string name);
}
