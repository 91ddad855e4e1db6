using System.ComponentModel;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using VirtPortal.Core.Databases;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Resources;
using VirtPortal.Web.Components;

namespace VirtPortal.Web.Api;

/// <summary>A backup, with where its file is downloaded once it is ready (the portal's download URL, as on the database's page).</summary>
public sealed record DatabaseBackupItem(
    DatabaseBackupView Backup,
    [property: Description("GET it for the backup's file once state is Ready; null before.")] string? DownloadUrl);

/// <summary>The database's password, in this answer only: it is not kept for a second look.</summary>
public sealed record RevealedPassword(Guid ResourceId, string Password);

/// <summary>
/// Databases, as their page offers them: the page's details (health, connection, backups), the backups a page at a
/// time, taking a backup and a new password (both queued operations: 202 and the operation's Location), and the
/// password's one look. A database is requested, and a backup restored into a new one, with POST /requests (kind
/// NewDatabase, restoreFromBackupId); its files download with the token as well.
/// </summary>
public static class DatabasesApi
{
    public static RouteGroupBuilder MapDatabasesApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var group = api.MapGroup("/databases").WithTags("Databases").WithMetadata(new ApiSubject("database"));
        group.MapGet("/{id:guid}", GetAsync).WithName("GetDatabase")
            .WithSummary("Get a database with its health, connection and recent backups")
            .WithDescription("passwordWaiting says a password waits for its one look (POST …/password). The ETag is the resource's version, for If-Match on actions.")
            .WithExamples(response: ApiExamples.DatabaseDetails);
        group.MapGet("/{id:guid}/backups", ListBackupsAsync).WithName("ListDatabaseBackups")
            .WithSummary("List a database's backups")
            .WithDescription("Newest first. A ready backup has a downloadUrl; to restore one, submit a NewDatabase request with its id as restoreFromBackupId.")
            .WithExamples(response: ApiExamples.PageOf(ApiExamples.BackupItem));
        group.MapPost("/{id:guid}/backups", BackupAsync).WithName("BackupDatabase")
            .WithSummary("Take a backup of a database")
            .WithDescription("Queued as an operation: 202 with it and its Location; the backup shows in the list as Pending until it is written. With If-Match, only while the database is at that version (412 otherwise).")
            .WithMetadata(VersionedChange.Instance)
            .WithExamples(response: ApiExamples.OperationView with { Kind = OperationKind.Backup });
        group.MapPost("/{id:guid}/rotate-password", RotateAsync).WithName("RotateDatabasePassword")
            .WithSummary("Give a database's owner a new password")
            .WithDescription("PostgreSQL only. Queued as an operation: 202 with it and its Location; once it succeeded, POST …/password shows the new password once. With If-Match, only while the database is at that version (412 otherwise).")
            .WithMetadata(VersionedChange.Instance)
            .WithExamples(response: ApiExamples.OperationView with { Kind = OperationKind.RotatePassword });
        group.MapPost("/{id:guid}/password", RevealAsync).WithName("RevealDatabasePassword")
            .WithSummary("Show a database's password, once")
            .WithDescription("The password issued when the database was made or its password rotated, in this answer only: it is deleted as it is shown, "
                + "and no Idempotency-Key keeps it for a repeat. 409 when none waits (it was shown already).")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithMetadata(SecretAnswer.Instance)
            .WithExamples(response: ApiExamples.RevealedPassword);
        group.MapPut("/{id:guid}/file", ReplaceFileAsync).WithName("ReplaceSqliteDatabaseFile")
            .WithSummary("Replace an embedded SQLite database's file")
            .WithDescription("The body is the new file (application/octet-stream), at most the database's disk size. It replaces the database only once it passed "
                + "PRAGMA integrity_check; a file that fails it is refused and the database stays as it was. Its current file downloads with GET …/file.")
            .Accepts<Stream>("application/octet-stream")
            // The service stops reading at the database's own disk size, which may be above the server's default body limit.
            .WithMetadata(new Microsoft.AspNetCore.Mvc.DisableRequestSizeLimitAttribute())
            .WithExamples(response: ApiExamples.DatabaseDetails);
        group.MapGet("/{id:guid}/backups/{backupId:guid}/file", DownloadBackupAsync).WithName("DownloadDatabaseBackup")
            .WithSummary("Download a ready backup's file")
            .WithDescription("The dump (PostgreSQL) or database file (SQLite) as an attachment. 404 while the backup is not ready, saying so.")
            .Produces<Stream>(StatusCodes.Status200OK, "application/octet-stream");
        group.MapGet("/{id:guid}/file", DownloadFileAsync).WithName("DownloadSqliteDatabaseFile")
            .WithSummary("Download an embedded SQLite database's current file")
            .WithDescription("A consistent copy taken while the database stays in use, as an attachment. 422 for a database that is not SQLite.")
            .Produces<Stream>(StatusCodes.Status200OK, "application/octet-stream");
        return group;
    }

    /// <summary>Where a script downloads a ready backup's file with its token.</summary>
    public static string BackupFile(Guid id, Guid backupId) => PortalApi.Path($"/databases/{id}/backups/{backupId}/file");

    /// <summary>What a database that has no password waiting is told; the page's words.</summary>
    public const string NoPasswordWaiting = "The password was shown once already. If it is lost, ask for a new one with rotate-password.";

    private static async Task<Ok<DatabaseDetails>> GetAsync(Guid id, ClaimsPrincipal user, HttpResponse response, DatabaseService databases, CancellationToken ct)
    {
        var details = await databases.GetAsync(user.Actor(), id, ct);
        ApiVersions.Tag(response, details.Resource.Summary.Version);
        return TypedResults.Ok(details);
    }

    private static async Task<Ok<ApiPage<DatabaseBackupItem>>> ListBackupsAsync(
        Guid id, ClaimsPrincipal user, [AsParameters] PageQuery page, DatabaseService databases, CancellationToken ct)
    {
        var backups = await databases.BackupsAsync(user.Actor(), id, page.ToRequest(), ct);
        var items = backups.Items.Select(b => new DatabaseBackupItem(b, b.State == DatabaseBackupState.Ready ? BackupFile(id, b.Id) : null)).ToList();
        return TypedResults.Ok(PageQuery.Answer(new Core.Common.Page<DatabaseBackupItem>(items, backups.Next)));
    }

    private static Task<Accepted<ResourceOperationView>> BackupAsync(
        Guid id, ClaimsPrincipal user, HttpRequest request, ResourceActions actions, ResourceDetailsQueries details, CancellationToken ct) =>
        ActAsync(id, OperationKind.Backup, user, request, actions, details, ct);

    private static Task<Accepted<ResourceOperationView>> RotateAsync(
        Guid id, ClaimsPrincipal user, HttpRequest request, ResourceActions actions, ResourceDetailsQueries details, CancellationToken ct) =>
        ActAsync(id, OperationKind.RotatePassword, user, request, actions, details, ct);

    private static async Task<Results<Ok<RevealedPassword>, ProblemHttpResult>> RevealAsync(
        Guid id, ClaimsPrincipal user, HttpResponse response, DatabaseService databases, CancellationToken ct)
    {
        response.Headers.CacheControl = "no-store";
        return await databases.RevealPasswordAsync(user.Actor(), id, ct) is { } password
            ? TypedResults.Ok(new RevealedPassword(id, password))
            : TypedResults.Problem(NoPasswordWaiting, statusCode: StatusCodes.Status409Conflict);
    }

    private static async Task<Ok<DatabaseDetails>> ReplaceFileAsync(
        Guid id, ClaimsPrincipal user, HttpRequest request, DatabaseService databases, CancellationToken ct)
    {
        var actor = user.Actor();
        await databases.ReplaceSqliteFileAsync(actor, id, request.Body, ct);
        var details = await databases.GetAsync(actor, id, ct);
        ApiVersions.Tag(request.HttpContext.Response, details.Resource.Summary.Version);
        return TypedResults.Ok(details);
    }

    private static async Task<FileStreamHttpResult> DownloadBackupAsync(Guid id, Guid backupId, ClaimsPrincipal user, DatabaseService databases, CancellationToken ct) =>
        DatabaseFilesApi.Attachment(await databases.OpenBackupAsync(user.Actor(), id, backupId, ct));

    private static async Task<FileStreamHttpResult> DownloadFileAsync(Guid id, ClaimsPrincipal user, DatabaseService databases, CancellationToken ct) =>
        DatabaseFilesApi.Attachment(await databases.OpenSqliteFileAsync(user.Actor(), id, ct));

    private static async Task<Accepted<ResourceOperationView>> ActAsync(
        Guid id, OperationKind action, ClaimsPrincipal user, HttpRequest request, ResourceActions actions, ResourceDetailsQueries details, CancellationToken ct)
    {
        var actor = user.Actor();
        var operationId = await actions.RequestAsync(actor, id, action, null, ApiVersions.Expected(request), ct);
        return TypedResults.Accepted(OperationsApi.Location(operationId), await details.GetOperationAsync(actor, operationId, ct));
    }
}
