using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Data;
using VirtPortal.Core.Live;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Reconciliation;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Databases;

public sealed record DatabaseCheck(int Servers, int Unreachable, int NewDrifts, int Cleared);

/// <summary>A database's figures as its server last gave them.</summary>
public sealed record DatabaseSample(DateTimeOffset At, long SizeBytes, int ActiveConnections);

/// <summary>
/// Asks every database server how its databases are, as the reconciler asks hypervisor hosts: whether the
/// server answers (its state, and Unknown for its databases while it does not), whether each database
/// accepts connections (the database's health, apart from the server's), its size and sessions, and what
/// differs between the server and the portal's records (drift, to the same inbox as hosts'). Databases with
/// an operation in flight are left to it. The portal never drops anything on its own.
/// </summary>
public sealed partial class DatabaseHealth(
    IDbContextFactory<PortalDbContext> dbFactory, DatabaseEngineRegistry engines, DatabaseFigureHistory history, LiveUpdates live, TimeProvider time, ILogger<DatabaseHealth> logger)
{
    private static readonly Actor Self = new("reconciler", "reconciler", new HashSet<string>());

    /// <summary>The last figures of a database, or null before its first check.</summary>
    public DatabaseSample? Latest(Guid resourceId) => history.Latest(resourceId);

    public async Task<DatabaseCheck> CheckAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var servers = await db.DatabaseServers.ToListAsync(ct);
        int unreachable = 0, added = 0, cleared = 0;
        var changed = new List<(Guid Id, Guid TenantId, long Version)>();
        var driftServers = new HashSet<Guid>();
        var sampled = new List<DatabaseSampled>();
        var measured = new List<(Guid, DatabaseSample)>();
        foreach (var server in servers)
        {
            var now = time.GetUtcNow();
            IDatabaseEngine engine;
            IReadOnlyList<string> names;
            try
            {
                engine = engines.For(server);
                names = await engine.ListAsync(ct);
            }
            catch (DatabaseEngineException e)
            {
                unreachable++;
                if (server.State == DatabaseServerState.Online)
                {
                    server.State = DatabaseServerState.Unreachable;
                    db.Record(time, Self, AuditActions.HostUnreachable, $"database server {server.Name}", null, e.Message);
                }

                server.LastError = e.Message;
                changed.AddRange(await ResourceLifecycle.DatabaseServerLostAsync(db, server.Id, now, ct));
                LogUnreachable(server.Name, e.Message);
                continue;
            }

            if (server.State == DatabaseServerState.Unreachable)
                server.State = DatabaseServerState.Online;
            server.LastSeenAt = now;
            server.LastError = null;

            // The operations first, then the records: an operation that ends between the two reads leaves its
            // database in the second (Running), never in neither (a create's own database called unknown).
            var busy = (await db.Operations.AsNoTracking()
                .Where(o => o.State == OperationState.Pending || o.State == OperationState.Running)
                .Select(o => o.ResourceId).ToListAsync(ct)).ToHashSet();
            var records = await db.Resources.AsNoTracking()
                .Where(r => r.Kind == ResourceKind.Database && r.DatabaseServerId == server.Id && r.DatabaseName != null)
                .ToListAsync(ct);
            var present = names.ToHashSet(StringComparer.Ordinal);
            var reported = new Dictionary<Guid, ResourceState>();
            var found = new List<Drift>();
            foreach (var record in records.Where(r => !busy.Contains(r.Id)))
            {
                if (record.State is ResourceState.Deleted or ResourceState.Failed or ResourceState.Provisioning or ResourceState.Deleting)
                    continue;
                var spec = DatabaseSpec.For(record.DatabaseName!, 1);
                if (!present.Contains(record.DatabaseName!))
                {
                    reported[record.Id] = ResourceState.Unknown;
                    found.Add(NewDrift(server, record.Id, record.DatabaseName!, DriftKind.Vanished, $"{record.Name} exists ({record.State})", "no such database on the server", now));
                    continue;
                }

                var status = await engine.StatusAsync(spec, ct);
                reported[record.Id] = status.AcceptingConnections ? ResourceState.Running : status.ServerReachable ? ResourceState.Shutoff : ResourceState.Unknown;
                if (!status.AcceptingConnections)
                    continue;
                try
                {
                    var figures = await engine.FiguresAsync(spec, ct);
                    measured.Add((record.Id, new DatabaseSample(now, figures.SizeBytes, figures.ActiveConnections)));
                    sampled.Add(new DatabaseSampled(record.TenantId, record.Id, now, figures.SizeBytes, figures.ActiveConnections));
                }
                catch (DatabaseEngineException e)
                {
                    LogFiguresFailed(record.Name, e.Message);
                }
            }

            // A database of the portal's naming that no record holds, or only a record long gone whose drop is not pending.
            var known = records.Where(r => (r.State != ResourceState.Deleted && r.State != ResourceState.Failed) || busy.Contains(r.Id))
                .Select(r => r.DatabaseName!).ToHashSet(StringComparer.Ordinal);
            foreach (var name in names.Where(n => !known.Contains(n)))
            {
                var former = records.FirstOrDefault(r => r.DatabaseName == name);
                found.Add(NewDrift(server, former?.Id ?? IdOf(name), name, DriftKind.Unknown,
                    former is null ? "no record" : $"{former.Name} was {former.State.ToString().ToLowerInvariant()}", "the database exists on the server", now));
            }

            changed.AddRange(await ResourceLifecycle.ReportAsync(db, reported, now, ct));
            var open = await db.Drifts.Where(d => d.DatabaseServerId == server.Id && d.ResolvedAt == null).ToListAsync(ct);
            foreach (var drift in found.Where(f => !open.Any(o => o.DomainId == f.DomainId && o.Kind == f.Kind)))
            {
                // An Unknown drift of a former record names no resource: there is nothing of the tenant's to settle.
                drift.ResourceId = drift.Kind == DriftKind.Vanished ? drift.DomainId : null;
                db.Add(drift);
                db.Record(time, Self, AuditActions.DriftDetected, $"database {drift.DomainName}", null,
                    $"{drift.Kind} on {server.Name}: portal says {drift.PortalView}, server says {drift.HypervisorView}");
                added++;
                driftServers.Add(server.Id);
            }

            foreach (var gone in open.Where(o => !found.Any(f => f.DomainId == o.DomainId && f.Kind == o.Kind)))
            {
                gone.ResolvedAt = now;
                gone.Resolution = "no longer differs";
                cleared++;
                driftServers.Add(server.Id);
            }
        }

        await history.RecordAsync(db, measured, time.GetUtcNow(), ct);
        await db.SaveChangesAsync(ct);
        foreach (var (id, tenantId, version) in changed)
            live.Publish(new ResourceChanged(tenantId, id, version));
        foreach (var id in driftServers)
            live.Publish(new DriftChanged(id));
        foreach (var sample in sampled)
            live.Publish(sample);
        return new DatabaseCheck(servers.Count, unreachable, added, cleared);
    }

    private static Drift NewDrift(DatabaseServer server, Guid id, string name, DriftKind kind, string portal, string found, DateTimeOffset at) => new()
    {
        DatabaseServerId = server.Id,
        DomainId = id,
        DomainName = name,
        Kind = kind,
        PortalView = portal,
        HypervisorView = found,
        DetectedAt = at,
    };

    /// <summary>A stable id for a database the portal has no record of, so its drift is found once, not on every check.</summary>
    private static Guid IdOf(string name) => new(SHA256.HashData(Encoding.UTF8.GetBytes("database:" + name)).AsSpan(0, 16));

    [LoggerMessage(LogLevel.Warning, "Database server {Server} does not answer: {Error}")]
    private partial void LogUnreachable(string server, string error);

    [LoggerMessage(LogLevel.Information, "The figures of database {Database} could not be read: {Error}")]
    private partial void LogFiguresFailed(string database, string error);
}
