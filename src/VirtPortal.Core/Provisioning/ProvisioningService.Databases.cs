using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Data;
using VirtPortal.Core.Databases;
using VirtPortal.Core.Resources;

namespace VirtPortal.Core.Provisioning;

/// <summary>
/// The database half of the worker: placement on a database server, and the engine calls of each
/// operation. Engine calls are idempotent, so a run taken over after a crash repeats them safely; an
/// owner's password exists in the clear only in this run's memory and leaves it protected.
/// </summary>
public sealed partial class ProvisioningService
{
    /// <summary>
    /// Puts a new database on the server of its engine with the most room (online, under its database
    /// count and storage), in the claim's transaction; leaves the reason on the record when none has room.
    /// </summary>
    private async Task PlaceDatabaseAsync(PortalDbContext db, Resource resource, CancellationToken ct)
    {
        var offering = await db.DatabaseOfferings.AsNoTracking().FirstOrDefaultAsync(o => o.Id == resource.OfferingId, ct);
        if (offering is null)
        {
            resource.PlacementReason = "The database's offering no longer exists.";
            return;
        }

        var servers = await db.DatabaseServers.AsNoTracking().Where(s => s.Engine == offering.Engine).OrderBy(s => s.Name).ToListAsync(ct);
        var held = (await db.Resources.AsNoTracking()
                .Where(r => r.Kind == ResourceKind.Database && r.DatabaseServerId != null && r.State != ResourceState.Deleted && r.State != ResourceState.Failed)
                .Select(r => new { ServerId = r.DatabaseServerId!.Value, r.DiskGiB })
                .ToListAsync(ct))
            .GroupBy(r => r.ServerId)
            .ToDictionary(g => g.Key, g => (Count: g.Count(), GiB: g.Sum(r => r.DiskGiB)));
        var engine = offering.Engine == Catalog.DatabaseEngineKind.PostgreSql ? "PostgreSQL" : "SQLite";
        if (servers.Count == 0)
        {
            resource.PlacementReason = $"No {engine} server is registered.";
            return;
        }

        var refusals = new List<string>();
        DatabaseServer? chosen = null;
        foreach (var server in servers.OrderBy(s => held.GetValueOrDefault(s.Id).Count).ThenBy(s => s.Name, StringComparer.Ordinal))
        {
            var (count, gib) = held.GetValueOrDefault(server.Id);
            if (server.State == DatabaseServerState.Maintenance)
                refusals.Add($"{server.Name} is in maintenance");
            else if (server.State == DatabaseServerState.Unreachable)
                refusals.Add($"{server.Name} does not answer");
            else if (count >= server.MaxDatabases)
                refusals.Add($"{server.Name} holds {count} of {server.MaxDatabases} databases");
            else if (gib + resource.DiskGiB > server.StorageGiB)
                refusals.Add($"{server.Name} has {server.StorageGiB - gib} of {server.StorageGiB} GiB free, {resource.DiskGiB} asked");
            else
            {
                chosen = server;
                resource.PlacementReason = $"{server.Name}: {count} of {server.MaxDatabases} databases and {gib} of {server.StorageGiB} GiB allocated before this one";
                break;
            }
        }

        if (chosen is null)
        {
            resource.PlacementReason = $"No {engine} server has room: {string.Join("; ", refusals)}.";
            return;
        }

        if (DatabaseNames.Problem(resource.Name) is { } problem)
        {
            resource.PlacementReason = problem;
            return;
        }

        resource.DatabaseServerId = chosen.Id;
        resource.DatabaseName = DatabaseNames.ServerName(resource.Name, resource.Id);
        db.Record(time, Worker, AuditActions.ResourcePlaced, $"{resource.Kind} {resource.Name}", resource.TenantId, resource.PlacementReason);
    }

    private async Task RunDatabaseAsync(Operation operation, Resource resource, string workerId, CancellationToken ct)
    {
        DatabaseServer? server;
        int connectionLimit;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            server = resource.DatabaseServerId is { } id ? await db.DatabaseServers.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct) : null;
            connectionLimit = await db.DatabaseOfferings.Where(o => o.Id == resource.OfferingId).Select(o => (int?)o.ConnectionLimit).FirstOrDefaultAsync(ct) ?? 20;
        }

        if (server is null || resource.DatabaseName is null)
        {
            if (operation.Kind == OperationKind.Delete)
                await FinishAsync(operation.Id, workerId, null, ResourceState.Deleted, null, ct); // Never placed: nothing exists on any server.
            else
                await FailAsync(operation.Id, workerId, new ProvisioningFailure(FailureKind.NoCapacity, resource.PlacementReason is { Length: > 0 } reason ? reason : "No database server has room."), ct);
            return;
        }

        await Step("placed");
        var spec = DatabaseSpec.For(resource.DatabaseName, Math.Max(1, connectionLimit));
        try
        {
            var engine = databases.For(server);
            var (after, also) = operation.Kind switch
            {
                OperationKind.Create => await CreateDatabaseAsync(engine, spec, operation, resource, ct),
                OperationKind.Delete => await DropDatabaseAsync(engine, spec, ct),
                OperationKind.RotatePassword => await RotatePasswordAsync(engine, spec, ct),
                OperationKind.Backup => await BackUpAsync(engine, spec, operation, ct),
                _ => throw new DatabaseEngineException(DatabaseFailure.Refused, $"{operation.Kind} is not an operation on a database."),
            };
            await Step("called");
            await FinishAsync(operation.Id, workerId, server.Name, after, also, ct);
            if (operation.Kind == OperationKind.Delete)
                await DeleteBackupFilesAsync(operation.ResourceId, ct);
        }
        catch (DatabaseEngineException e)
        {
            var kind = e.Failure switch
            {
                DatabaseFailure.Unreachable => FailureKind.HostUnreachable,
                DatabaseFailure.Timeout => FailureKind.TimedOut,
                _ => FailureKind.HostRefused,
            };
            var failure = new ProvisioningFailure(kind, $"{server.Name}: {e.Message}");
            // A drop whose server does not answer waits for it (the record is already gone); a call that
            // timed out fails with that reason at once, as does a refusal; an unreachable server is retried.
            var untilDone = operation.Kind == OperationKind.Delete && e.Failure != DatabaseFailure.Refused;
            await RetryOrFailAsync(operation.Id, workerId, e.Failure == DatabaseFailure.Unreachable, failure.Detail, failure, untilDone, ct);
        }
    }

    private async Task<(ResourceState, AlsoOnFinish?)> CreateDatabaseAsync(IDatabaseEngine engine, DatabaseSpec spec, Operation operation, Resource resource, CancellationToken ct)
    {
        var password = engine.HasCredentials ? DatabasePasswords.New() : null;
        var restoring = resource.RestoreFromBackupId;
        // A restore interrupted half-way leaves some tables behind: a retry starts again from an empty database.
        if (restoring is not null && operation.Attempts > 1)
            await engine.DropAsync(spec, ct);
        await engine.CreateAsync(spec, password, Step, ct);
        await Step("granted");
        if (restoring is { } from)
        {
            var file = databases.BackupFile(from);
            if (!File.Exists(file))
                throw new DatabaseEngineException(DatabaseFailure.Refused, "The backup to restore from is gone.");
            await engine.RestoreAsync(spec, file, ct);
        }

        var protectedPassword = password is null ? null : secrets.ProtectPassword(password);
        return (ResourceState.Running, (db, r, _, token) => IssueAsync(db, r, protectedPassword, token));
    }

    private static async Task<(ResourceState, AlsoOnFinish?)> DropDatabaseAsync(IDatabaseEngine engine, DatabaseSpec spec, CancellationToken ct)
    {
        await engine.DropAsync(spec, ct);
        return (ResourceState.Deleted, async (db, resource, _, token) =>
        {
            await db.DatabaseCredentials.Where(c => c.ResourceId == resource.Id).ExecuteDeleteAsync(token);
            foreach (var backup in await db.DatabaseBackups.Where(b => b.ResourceId == resource.Id && b.State != DatabaseBackupState.Deleted).ToListAsync(token))
                backup.State = DatabaseBackupState.Deleted;
        });
    }

    private async Task<(ResourceState, AlsoOnFinish?)> RotatePasswordAsync(IDatabaseEngine engine, DatabaseSpec spec, CancellationToken ct)
    {
        if (!engine.HasCredentials)
            throw new DatabaseEngineException(DatabaseFailure.Refused, "An embedded SQLite database has no password: its owner downloads the file.");
        var password = DatabasePasswords.New();
        await engine.SetPasswordAsync(spec, password, ct);
        var protectedPassword = secrets.ProtectPassword(password);
        return (ResourceState.Running, (db, r, _, token) => IssueAsync(db, r, protectedPassword, token));
    }

    private async Task<(ResourceState, AlsoOnFinish?)> BackUpAsync(IDatabaseEngine engine, DatabaseSpec spec, Operation operation, CancellationToken ct)
    {
        var backupId = operation.BackupId ?? throw new DatabaseEngineException(DatabaseFailure.Refused, "The backup operation names no backup.");
        var file = databases.BackupFile(backupId);
        // Written beside its place and moved in, so a crash never leaves a file that looks whole.
        var partial = file + ".partial";
        File.Delete(partial);
        await engine.BackupAsync(spec, partial, ct);
        File.Move(partial, file, overwrite: true);
        var size = new FileInfo(file).Length;
        return (ResourceState.Running, async (db, _, _, token) =>
        {
            var backup = await db.DatabaseBackups.FirstAsync(b => b.Id == backupId, token);
            backup.State = DatabaseBackupState.Ready;
            backup.SizeBytes = size;
            backup.Engine = engine.Kind;
            backup.FinishedAt = time.GetUtcNow();
        });
    }

    /// <summary>Keeps the new password, protected, until its owner's one look at it; an earlier unread one is replaced.</summary>
    private async Task IssueAsync(PortalDbContext db, Resource resource, string? protectedPassword, CancellationToken ct)
    {
        await db.DatabaseCredentials.Where(c => c.ResourceId == resource.Id).ExecuteDeleteAsync(ct);
        if (protectedPassword is not null)
            db.DatabaseCredentials.Add(new DatabaseCredential { ResourceId = resource.Id, ProtectedPassword = protectedPassword, IssuedAt = time.GetUtcNow() });
    }

    /// <summary>A dropped database's backup files go with it (their rows, marked deleted, stay for the audit).</summary>
    private async Task DeleteBackupFilesAsync(Guid resourceId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        foreach (var id in await db.DatabaseBackups.Where(b => b.ResourceId == resourceId).Select(b => b.Id).ToListAsync(ct))
            File.Delete(databases.BackupFile(id));
    }
}
