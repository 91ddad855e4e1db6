using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Npgsql;
using VirtPortal.Core.Access;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Catalog;
using VirtPortal.Core.Common;
using VirtPortal.Core.Data;
using VirtPortal.Core.Live;
using VirtPortal.Core.Monitoring;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Databases;

/// <summary>
/// Database health apart from its server's, as Trove shows them: <see cref="Database"/> is the state the
/// database shows (the portal's, or its server's report of it), <see cref="Server"/> whether its server answers.
/// <see cref="ServerError"/> is the server's own words, only for those who read the whole audit log.
/// </summary>
public sealed record DatabaseHealthView(
    ResourceState Database, DateTimeOffset? ConfirmedAt, DatabaseServerState? Server, DateTimeOffset? ServerLastSeenAt, string? ServerError);

public sealed record DatabaseBackupView(Guid Id, DatabaseBackupState State, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt, long SizeBytes, string? Error);

/// <summary>
/// One database's page: the resource's details (<see cref="Resource"/>, from <see cref="ResourceDetailsQueries"/>),
/// its engine, server and health, whether a password waits for its one look, its backups, and where to connect
/// (<see cref="Connection"/>, PostgreSQL only, null before placement).
/// </summary>
public sealed record DatabaseDetails(
    ResourceDetails Resource, DatabaseEngineKind Engine, Guid? OfferingId, string OfferingName, string? ServerName, string? ServerDatabaseName,
    DatabaseHealthView Health, bool PasswordWaiting, DateTimeOffset? PasswordIssuedAt,
    IReadOnlyList<DatabaseBackupView> Backups, DatabaseConnection? Connection)
{
    public bool IsSqlite => Engine == DatabaseEngineKind.Sqlite;
}

/// <summary>A file to hand to the browser; the caller disposes <see cref="Content"/>.</summary>
public sealed record DatabaseDownload(Stream Content, string FileName);

/// <summary>
/// The owner's side of a database: its page, its password's one look, its connection strings, and its
/// files (backups; for SQLite the database file itself, and a checked replacement of it).
/// </summary>
public sealed partial class DatabaseService(
    IDbContextFactory<PortalDbContext> dbFactory, PortalAccess access, ResourceDetailsQueries details, DatabaseEngineRegistry engines,
    DatabaseServerSecrets secrets, DatabaseFigureHistory history, TimeProvider time, LiveUpdates live, ILogger<DatabaseService> logger)
{
    public const int RecentBackups = 20;

    [Requires(Permission.ResourceView, AccessTargetKind.Resource)]
    public async Task<DatabaseDetails> GetAsync(Actor actor, Guid resourceId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await access.RequireAsync(actor, Permission.ResourceView, AccessTarget.Resource(resourceId), "view database", ct);
        var resourceDetails = await details.GetAsync(actor, resourceId, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var resource = await DatabaseAsync(db, resourceId, ct);
        var offering = await db.DatabaseOfferings.AsNoTracking().Where(o => o.Id == resource.OfferingId)
            .Select(o => new { o.Name, o.Engine }).FirstOrDefaultAsync(ct);
        var server = resource.DatabaseServerId is { } serverId ? await db.DatabaseServers.AsNoTracking().FirstOrDefaultAsync(s => s.Id == serverId, ct) : null;
        var engine = server?.Engine ?? offering?.Engine ?? DatabaseEngineKind.PostgreSql;
        var issuedAt = await db.DatabaseCredentials.AsNoTracking().Where(c => c.ResourceId == resourceId).Select(c => (DateTimeOffset?)c.IssuedAt).FirstOrDefaultAsync(ct);
        var backups = await db.DatabaseBackups.AsNoTracking().Where(b => b.ResourceId == resourceId && b.State != DatabaseBackupState.Deleted)
            .OrderByDescending(b => b.CreatedAt).ThenByDescending(b => b.Id).Take(RecentBackups).ToListAsync(ct);
        var readsServerWords = await access.AllowsAsync(actor, Permission.AuditRead, AccessTarget.Portal, ct);

        var summary = resourceDetails.Summary;
        var health = new DatabaseHealthView(summary.State, summary.ConfirmedAt, server?.State, server?.LastSeenAt, readsServerWords ? server?.LastError : null);
        return new DatabaseDetails(
            resourceDetails, engine, resource.OfferingId, offering?.Name ?? "", server?.Name, resource.DatabaseName, health, issuedAt is not null, issuedAt,
            [.. backups.Select(View)],
            server is not null && resource.DatabaseName is { } name ? ConnectionOf(server, name) : null);
    }

    /// <summary>The database's backups, newest first, a page at a time (the page shows the <see cref="RecentBackups"/> newest).</summary>
    [Requires(Permission.ResourceView, AccessTargetKind.Resource)]
    public async Task<Page<DatabaseBackupView>> BackupsAsync(Actor actor, Guid resourceId, PageRequest page, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(page);
        await access.RequireAsync(actor, Permission.ResourceView, AccessTarget.Resource(resourceId), "view database", ct);
        var limit = page.Checked;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await DatabaseAsync(db, resourceId, ct);
        var query = db.DatabaseBackups.AsNoTracking().Where(b => b.ResourceId == resourceId && b.State != DatabaseBackupState.Deleted);
        if (page.After is { } after)
            query = query.Where(b => b.Id.CompareTo(after) < 0);
        var rows = await query.OrderByDescending(b => b.Id).Take(limit + 1).ToListAsync(ct);
        return Paging.Of([.. rows.Select(View)], page, b => b.Id);
    }

    /// <summary>The database's size and open sessions as its server reports them now; null when the server does not answer.</summary>
    [Requires(Permission.ResourceView, AccessTargetKind.Resource)]
    public async Task<DatabaseFigures?> FiguresAsync(Actor actor, Guid resourceId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await access.RequireAsync(actor, Permission.ResourceView, AccessTarget.Resource(resourceId), "view database", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var resource = await DatabaseAsync(db, resourceId, ct);
        if (await ServerOfAsync(db, resource, ct) is not { State: DatabaseServerState.Online } server || resource.State != ResourceState.Running)
            return null;
        try
        {
            return await engines.For(server).FiguresAsync(Spec(resource), ct);
        }
        catch (DatabaseEngineException e)
        {
            LogFiguresFailed(resource.Id, server.Name, e.Message);
            return null;
        }
    }

    /// <summary>The database's size and peak sessions over <paramref name="range"/>, oldest first (see <see cref="DatabaseFigureHistory"/>).</summary>
    [Requires(Permission.ResourceView, AccessTargetKind.Resource)]
    public async Task<IReadOnlyList<DatabaseSample>> SeriesAsync(Actor actor, Guid resourceId, MetricRange range, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await access.RequireAsync(actor, Permission.ResourceView, AccessTarget.Resource(resourceId), "read database figures", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await history.SeriesAsync(db, resourceId, range, time.GetUtcNow(), ct);
    }

    /// <summary>
    /// The password waiting for its owner's one look, or null when there is none (already seen, or never issued).
    /// It is deleted in the transaction that returns it, so a second call, or a concurrent one, gets null.
    /// Only those who may act on the database see it: helpdesk and approvers view databases but never sign in to them.
    /// </summary>
    [Requires(Permission.ResourceOperate, AccessTargetKind.Resource)]
    public async Task<string?> RevealPasswordAsync(Actor actor, Guid resourceId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await access.RequireAsync(db, actor, Permission.ResourceOperate, AccessTarget.Resource(resourceId), "reveal database password", ct);
        var resource = await DatabaseAsync(db, resourceId, ct);
        var credential = await db.DatabaseCredentials.AsNoTracking().FirstOrDefaultAsync(c => c.ResourceId == resourceId, ct);
        // The delete decides: of two looks at once, only the one that removed the row gets the password.
        if (credential is null || await db.DatabaseCredentials.Where(c => c.ResourceId == resourceId && c.IssuedAt == credential.IssuedAt).ExecuteDeleteAsync(ct) != 1)
            return null;
        var password = secrets.UnprotectPassword(credential.ProtectedPassword);
        db.Record(time, actor, AuditActions.DatabasePasswordRevealed, $"{resource.Kind} {resource.Name}", resource.TenantId,
            $"password issued {credential.IssuedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC");
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return password;
    }

    /// <summary>
    /// A ready backup of the database, to download: the tenant's data, so for those who operate the database,
    /// not read-only staff. A backup of another database, or of another tenant's, is not found.
    /// </summary>
    [Requires(Permission.ResourceOperate, AccessTargetKind.Resource)]
    public async Task<DatabaseDownload> OpenBackupAsync(Actor actor, Guid resourceId, Guid backupId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await access.RequireAsync(db, actor, Permission.ResourceOperate, AccessTarget.Resource(resourceId), "download database backup", ct);
        var resource = await DatabaseAsync(db, resourceId, ct);
        var backup = await db.DatabaseBackups.AsNoTracking().FirstOrDefaultAsync(b => b.Id == backupId && b.ResourceId == resourceId && b.TenantId == resource.TenantId, ct);
        if (backup is not { State: DatabaseBackupState.Ready })
            throw new PortalNotFoundException(backup is null ? "This backup does not exist." : $"This backup is {backup.State.ToString().ToLowerInvariant()}, not ready.");
        var file = engines.BackupFile(backup.Id);
        if (!File.Exists(file))
            throw new PortalNotFoundException("This backup's file is gone.");
        db.Record(time, actor, AuditActions.DatabaseBackupDownloaded, $"{resource.Kind} {resource.Name}", resource.TenantId, $"backup {backup.Id}");
        await db.SaveChangesAsync(ct);
        var content = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous);
        var extension = backup.Engine == DatabaseEngineKind.Sqlite ? "sqlite" : "dump";
        return new DatabaseDownload(content, $"{resource.Name}-{backup.CreatedAt.UtcDateTime:yyyyMMdd-HHmmss}.{extension}");
    }

    /// <summary>An embedded SQLite database's file as it is now (a consistent copy, VACUUM INTO, removed when the download closes), for those who operate it.</summary>
    [Requires(Permission.ResourceOperate, AccessTargetKind.Resource)]
    public async Task<DatabaseDownload> OpenSqliteFileAsync(Actor actor, Guid resourceId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await access.RequireAsync(db, actor, Permission.ResourceOperate, AccessTarget.Resource(resourceId), "download database file", ct);
        var (resource, server) = await RunningSqliteAsync(db, resourceId, ct);
        var copy = Path.Combine(Path.GetFullPath(engines.BackupDirectory), $"download-{Guid.NewGuid():N}.sqlite");
        Directory.CreateDirectory(engines.BackupDirectory);
        try
        {
            await engines.For(server).BackupAsync(Spec(resource), copy, ct);
        }
        catch (DatabaseEngineException e)
        {
            File.Delete(copy);
            throw new PortalValidationException("", e.Message);
        }

        var content = new FileStream(copy, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        db.Record(time, actor, AuditActions.DatabaseFileDownloaded, $"{resource.Kind} {resource.Name}", resource.TenantId);
        await db.SaveChangesAsync(ct);
        return new DatabaseDownload(content, $"{resource.Name}.sqlite");
    }

    /// <summary>
    /// Replaces an embedded SQLite database's file with <paramref name="content"/>, once it passed
    /// <c>PRAGMA integrity_check</c>; a file that fails it is refused and the database stays as it was.
    /// </summary>
    [Requires(Permission.ResourceOperate, AccessTargetKind.Resource)]
    public async Task ReplaceSqliteFileAsync(Actor actor, Guid resourceId, Stream content, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(content);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await access.RequireAsync(db, actor, Permission.ResourceOperate, AccessTarget.Resource(resourceId), "replace database file", ct);
        var (resource, server) = await RunningSqliteAsync(db, resourceId, ct);
        if (await db.Operations.AnyAsync(o => o.ResourceId == resourceId && (o.State == Provisioning.OperationState.Pending || o.State == Provisioning.OperationState.Running), ct))
            throw new PortalValidationException("File", $"An operation on {resource.Name} is under way; replace its file when it has finished.");

        Directory.CreateDirectory(engines.BackupDirectory);
        var upload = Path.Combine(Path.GetFullPath(engines.BackupDirectory), $"upload-{Guid.NewGuid():N}.partial");
        var limit = (long)Math.Max(1, resource.DiskGiB) << 30;
        try
        {
            await using (var file = new FileStream(upload, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
            {
                var buffer = new byte[81920];
                int read;
                while ((read = await content.ReadAsync(buffer, ct)) > 0)
                {
                    if (file.Length + read > limit)
                        throw new PortalValidationException("File", $"The file is larger than {resource.Name}'s {resource.DiskGiB} GiB.");
                    await file.WriteAsync(buffer.AsMemory(0, read), ct);
                }
            }

            await engines.For(server).RestoreAsync(Spec(resource), upload, ct);
        }
        catch (DatabaseEngineException e)
        {
            throw new PortalValidationException("File", e.Message);
        }
        finally
        {
            File.Delete(upload);
        }

        var tracked = await db.Resources.FirstAsync(r => r.Id == resourceId, ct);
        ResourceLifecycle.Touch(tracked);
        db.Record(time, actor, AuditActions.DatabaseFileReplaced, $"{resource.Kind} {resource.Name}", resource.TenantId, "the uploaded file passed PRAGMA integrity_check");
        await db.SaveChangesAsync(ct);
        live.Publish(new ResourceChanged(tracked.TenantId, tracked.Id, tracked.Version));
    }

    /// <summary>Host and port clients use: the server's client address, else the admin connection's, and never its user or password.</summary>
    private DatabaseConnection? ConnectionOf(DatabaseServer server, string databaseName)
    {
        if (server.Engine != DatabaseEngineKind.PostgreSql)
            return null;
        var host = server.ClientHost;
        var port = server.ClientPort;
        if ((host is null || port is null) && server.ProtectedAdminConnection is { } protectedConnection)
        {
            try
            {
                var admin = new NpgsqlConnectionStringBuilder(secrets.Unprotect(protectedConnection));
                host ??= admin.Host;
                port ??= admin.Port;
            }
            catch (DatabaseEngineException e)
            {
                LogConnectionUnreadable(server.Name, e.Message);
            }
        }

        return string.IsNullOrEmpty(host) ? null : new DatabaseConnection(host, port ?? NpgsqlConnection.DefaultPort, databaseName, DatabaseNames.OwnerOf(databaseName));
    }

    private static DatabaseBackupView View(DatabaseBackup b) =>
        new(b.Id, b.State, b.CreatedAt, b.FinishedAt, b.SizeBytes, b.State == DatabaseBackupState.Failed ? "The backup failed." : null);

    private static async Task<Resource> DatabaseAsync(PortalDbContext db, Guid resourceId, CancellationToken ct)
    {
        var resource = await db.Resources.AsNoTracking().FirstOrDefaultAsync(r => r.Id == resourceId, ct);
        if (resource is not { Kind: ResourceKind.Database })
            throw new PortalNotFoundException("This is not a database.");
        if (resource.State == ResourceState.Deleted)
            throw new PortalNotFoundException("This database was deleted.");
        return resource;
    }

    private static async Task<DatabaseServer?> ServerOfAsync(PortalDbContext db, Resource resource, CancellationToken ct) =>
        resource.DatabaseServerId is { } id && resource.DatabaseName is not null
            ? await db.DatabaseServers.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct)
            : null;

    private static async Task<(Resource, DatabaseServer)> RunningSqliteAsync(PortalDbContext db, Guid resourceId, CancellationToken ct)
    {
        var resource = await DatabaseAsync(db, resourceId, ct);
        var server = await ServerOfAsync(db, resource, ct);
        if (server is not { Engine: DatabaseEngineKind.Sqlite })
            throw new PortalValidationException("", "Only an embedded SQLite database is a file to download or replace; back up a PostgreSQL database instead.");
        if (resource.State != ResourceState.Running)
            throw new PortalValidationException("", $"{resource.Name} is {resource.State.ToString().ToLowerInvariant()}: its file can be taken or replaced once it is running.");
        return (resource, server);
    }

    private static DatabaseSpec Spec(Resource resource) => DatabaseSpec.For(resource.DatabaseName!, 1);

    [LoggerMessage(LogLevel.Information, "Figures of database {ResourceId} on {Server} not read: {Reason}")]
    private partial void LogFiguresFailed(Guid resourceId, string server, string reason);

    [LoggerMessage(LogLevel.Warning, "The admin connection of database server {Server} cannot be read for client addresses: {Reason}")]
    private partial void LogConnectionUnreadable(string server, string reason);
}
