using Microsoft.AspNetCore.Http.HttpResults;
using VirtPortal.Core.Common;
using VirtPortal.Core.Databases;
using VirtPortal.Web.Components;
using VirtPortal.Web.Security;

namespace VirtPortal.Web.Api;

/// <summary>
/// A database's files for the browser to download: its backups, and an embedded SQLite database's file.
/// Authorized by <see cref="DatabaseService"/> (the access service) on every call, so a link passed to someone
/// of another tenant is refused as an unknown one would be.
/// </summary>
public static class DatabaseFilesApi
{
    private const string ContentType = "application/octet-stream";

    public static RouteGroupBuilder MapDatabaseFilesApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var group = endpoints.MapGroup(PortalRoutes.DatabasesBase).RequireAuthorization();
        group.MapGet("/{id:guid}/backups/{backupId:guid}/file", GetBackupAsync);
        group.MapGet("/{id:guid}/file", GetFileAsync);
        return group;
    }

    private static Task<Results<FileStreamHttpResult, ProblemHttpResult>> GetBackupAsync(
        Guid id, Guid backupId, HttpContext context, DatabaseService databases, CancellationToken ct) =>
        DownloadAsync(context, actor => databases.OpenBackupAsync(actor, id, backupId, ct));

    private static Task<Results<FileStreamHttpResult, ProblemHttpResult>> GetFileAsync(
        Guid id, HttpContext context, DatabaseService databases, CancellationToken ct) =>
        DownloadAsync(context, actor => databases.OpenSqliteFileAsync(actor, id, ct));

    /// <summary>A database's file as the answer; its file name makes it an attachment (Content-Disposition), never shown inline.</summary>
    public static FileStreamHttpResult Attachment(DatabaseDownload download)
    {
        ArgumentNullException.ThrowIfNull(download);
        return TypedResults.File(download.Content, ContentType, download.FileName);
    }

    private static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> DownloadAsync(
        HttpContext context, Func<Core.Users.Actor, Task<DatabaseDownload>> open)
    {
        if (ActorAccessor.FromPrincipal(context.User) is not { } actor)
            return TypedResults.Problem("Sign in first.", statusCode: StatusCodes.Status401Unauthorized);
        try
        {
            return Attachment(await open(actor));
        }
        catch (PortalAccessDeniedException)
        {
            // Unknown and forbidden databases look alike (the refusal is audited by the service).
            return TypedResults.Problem("This database does not exist or you may not see it.", statusCode: StatusCodes.Status404NotFound);
        }
        catch (PortalNotFoundException e)
        {
            return TypedResults.Problem(e.Message, statusCode: StatusCodes.Status404NotFound);
        }
        catch (PortalValidationException e)
        {
            return TypedResults.Problem(e.Message, statusCode: StatusCodes.Status409Conflict);
        }
    }
}
