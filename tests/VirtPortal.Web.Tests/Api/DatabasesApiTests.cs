using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Data;
using VirtPortal.Core.Databases;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;

namespace VirtPortal.Web.Tests.Api;

/// <summary>Databases through the API: the page's details, backups (listed, taken as operations), the password's one look.</summary>
public sealed class DatabasesApiTests(ApiPortal portal) : IClassFixture<ApiPortal>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_database_reads_with_its_version_as_etag_and_a_vm_is_not_a_database()
    {
        var acme = await portal.AcmeAsync();
        var database = await portal.DatabaseAsync(acme);
        var vm = await portal.VmAsync(acme);
        using var client = await portal.ClientAsync(ApiPortal.Member);

        using var response = await client.GetAsync($"/api/v1/databases/{database.Id}", Ct);
        using var notOne = await client.GetAsync($"/api/v1/databases/{vm.Id}", Ct);

        var details = await response.ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(database.Name, details.GetProperty("resource").GetProperty("summary").GetProperty("name").GetString());
        Assert.Equal("\"1\"", response.Headers.ETag?.Tag);
        Assert.False(details.GetProperty("passwordWaiting").GetBoolean());
        Assert.Equal("This is not a database.", (await notOne.ExpectAsync(HttpStatusCode.NotFound)).Detail());
    }

    [Fact]
    public async Task Backups_list_newest_first_by_pages_and_only_a_ready_one_has_a_download_link()
    {
        var database = await portal.DatabaseAsync(await portal.AcmeAsync());
        var (ready, pending, failed) = (await BackupAsync(database, DatabaseBackupState.Ready), await BackupAsync(database, DatabaseBackupState.Pending), await BackupAsync(database, DatabaseBackupState.Failed));
        using var client = await portal.ClientAsync(ApiPortal.Member);

        using var first = await client.GetAsync($"/api/v1/databases/{database.Id}/backups?limit=2", Ct);
        var page = await first.ExpectAsync(HttpStatusCode.OK);
        using var second = await client.GetAsync($"/api/v1/databases/{database.Id}/backups?limit=2&cursor={page.GetProperty("nextCursor").GetString()}", Ct);
        var rest = await second.ExpectAsync(HttpStatusCode.OK);

        Assert.Equal([failed, pending], page.Items().Select(i => i.GetProperty("backup").Id()));
        Assert.Equal([ready], rest.Items().Select(i => i.GetProperty("backup").Id()));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, rest.GetProperty("nextCursor").ValueKind);
        Assert.Equal($"/api/v1/databases/{database.Id}/backups/{ready}/file", rest.Items()[0].GetProperty("downloadUrl").GetString());
        Assert.All(page.Items(), i => Assert.Equal(System.Text.Json.JsonValueKind.Null, i.GetProperty("downloadUrl").ValueKind));
        Assert.Equal("The backup failed.", page.Items()[0].GetProperty("backup").GetProperty("error").GetString());
    }

    [Fact]
    public async Task Taking_a_backup_queues_an_operation_to_poll_and_a_stale_version_queues_nothing()
    {
        var database = await portal.DatabaseAsync(await portal.AcmeAsync());
        using var client = await portal.ClientAsync(ApiPortal.Member);

        using var stale = await client.PostAsync($"/api/v1/databases/{database.Id}/backups", headers: new Dictionary<string, string> { ["If-Match"] = "\"0\"" });
        await stale.ExpectAsync(HttpStatusCode.PreconditionFailed);
        Assert.Equal(0, await OperationsAsync(database.Id));
        using var response = await client.PostAsync($"/api/v1/databases/{database.Id}/backups", headers: new Dictionary<string, string> { ["If-Match"] = "\"1\"" });

        var operation = await response.ExpectAsync(HttpStatusCode.Accepted);
        Assert.Equal(("Backup", database.Id), (operation.GetProperty("kind").GetString(), operation.GetProperty("resourceId").GetGuid()));
        Assert.Equal($"/api/v1/operations/{operation.Id()}", response.Headers.Location?.OriginalString);
        Assert.Equal(1, await OperationsAsync(database.Id));
    }

    [Fact]
    public async Task A_waiting_password_is_shown_once_and_then_the_page_says_it_was()
    {
        var database = await portal.DatabaseAsync(await portal.AcmeAsync());
        await using (var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct))
        {
            db.DatabaseCredentials.Add(new DatabaseCredential
            {
                ResourceId = database.Id, IssuedAt = DateTimeOffset.UtcNow,
                ProtectedPassword = portal.Services.GetRequiredService<DatabaseServerSecrets>().ProtectPassword("a-password-for-one-look"),
            });
            await db.SaveChangesAsync(Ct);
        }

        using var helpdesk = await portal.ClientAsync(ApiPortal.Helpdesk);
        using var refused = await helpdesk.PostAsync($"/api/v1/databases/{database.Id}/password");
        using var client = await portal.ClientAsync(ApiPortal.Member);
        using var shown = await client.PostAsync($"/api/v1/databases/{database.Id}/password");
        using var again = await client.PostAsync($"/api/v1/databases/{database.Id}/password");

        Assert.Equal("This database does not exist or you may not see it.", (await refused.ExpectAsync(HttpStatusCode.NotFound)).Detail());
        Assert.Equal("a-password-for-one-look", (await shown.ExpectAsync(HttpStatusCode.OK)).GetProperty("password").GetString());
        Assert.Equal("no-store", shown.Headers.CacheControl?.ToString());
        Assert.Equal("The password was shown once already. If it is lost, ask for a new one with rotate-password.", (await again.ExpectAsync(HttpStatusCode.Conflict)).Detail());
    }

    [Fact]
    public async Task A_repeat_of_the_passwords_look_with_its_idempotency_key_is_told_it_was_shown_and_the_password_is_not_kept()
    {
        var database = await portal.DatabaseAsync(await portal.AcmeAsync());
        await using (var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct))
        {
            db.DatabaseCredentials.Add(new DatabaseCredential
            {
                ResourceId = database.Id, IssuedAt = DateTimeOffset.UtcNow,
                ProtectedPassword = portal.Services.GetRequiredService<DatabaseServerSecrets>().ProtectPassword("kept-nowhere-password"),
            });
            await db.SaveChangesAsync(Ct);
        }

        using var client = await portal.ClientAsync(ApiPortal.Member);
        var key = new Dictionary<string, string> { ["Idempotency-Key"] = Guid.NewGuid().ToString() };

        using var shown = await client.PostAsync($"/api/v1/databases/{database.Id}/password", headers: key);
        using var repeat = await client.PostAsync($"/api/v1/databases/{database.Id}/password", headers: key);

        Assert.Equal("kept-nowhere-password", (await shown.ExpectAsync(HttpStatusCode.OK)).GetProperty("password").GetString());
        await repeat.ExpectAsync(HttpStatusCode.Conflict);
        Assert.False(repeat.Headers.Contains("Idempotent-Replayed"));
        await using var check = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        Assert.DoesNotContain(await check.IdempotencyRecords.AsNoTracking().Select(r => r.Body).ToListAsync(Ct),
            body => body != null && System.Text.Encoding.UTF8.GetString(body).Contains("kept-nowhere-password", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Another_tenants_member_cannot_back_up_or_rotate_and_nothing_is_queued()
    {
        var database = await portal.DatabaseAsync(await portal.AcmeAsync());
        var stranger = await portal.UserAsync((await portal.GlobexAsync(), TenantRole.Owner));
        using var client = portal.Client((await portal.TokenAsync(stranger)).Secret);

        using var backup = await client.PostAsync($"/api/v1/databases/{database.Id}/backups");
        using var rotate = await client.PostAsync($"/api/v1/databases/{database.Id}/rotate-password");
        using var list = await client.GetAsync($"/api/v1/databases/{database.Id}/backups", Ct);

        Assert.Equal("This database does not exist or you may not see it.", (await backup.ExpectAsync(HttpStatusCode.NotFound)).Detail());
        await rotate.ExpectAsync(HttpStatusCode.NotFound);
        await list.ExpectAsync(HttpStatusCode.NotFound);
        Assert.Equal(0, await OperationsAsync(database.Id));
    }

    [Fact]
    public async Task A_requested_sqlite_database_takes_a_sound_file_and_refuses_one_that_is_not_on_its_field()
    {
        var tenant = await portal.TenantAsync();
        using var client = portal.Client((await portal.TokenAsync(await portal.UserAsync((tenant, TenantRole.Member)))).Secret);
        using var offerings = await client.GetAsync("/api/v1/catalog/offerings", Ct);
        var sqlite = (await offerings.ExpectAsync(HttpStatusCode.OK)).Items().Single(o => o.GetProperty("engine").GetString() == "Sqlite").Id();
        using var submitted = await client.PostAsync("/api/v1/requests", new { kind = "NewDatabase", tenantId = tenant, name = $"db{Guid.NewGuid():N}"[..10], offeringId = sqlite, leaseDays = 7 });
        var request = (await submitted.ExpectAsync(HttpStatusCode.Created)).GetProperty("request");
        if (request.GetProperty("state").GetString() == "PendingApproval")
        {
            using var approver = await portal.ClientAsync(ApiPortal.Approver);
            using var approved = await approver.PostAsync($"/api/v1/approvals/{request.Id()}/approve");
            await approved.ExpectAsync(HttpStatusCode.OK);
        }

        var done = await client.PollAsync($"/api/v1/requests/{request.Id()}", r => r.GetProperty("request").GetProperty("state").GetString() is "Completed" or "Failed");
        Assert.Equal("Completed", done.GetProperty("request").GetProperty("state").GetString());
        var database = done.GetProperty("resourceId").GetGuid();
        using var read = await client.GetAsync($"/api/v1/databases/{database}", Ct);
        await read.ExpectAsync(HttpStatusCode.OK);
        var sound = Path.Combine(portal.DataDirectory, $"sound-{Guid.NewGuid():N}.db");
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={sound};Pooling=False"))
        {
            await connection.OpenAsync(Ct);
            await using var command = new Microsoft.Data.Sqlite.SqliteCommand("CREATE TABLE customers (name TEXT); INSERT INTO customers VALUES ('Ada');", connection);
            await command.ExecuteNonQueryAsync(Ct);
        }

        using var words = new ByteArrayContent("not a database at all, just words"u8.ToArray());
        using var refused = await client.PutAsync($"/api/v1/databases/{database}/file", words, Ct);
        using var file = new ByteArrayContent(await File.ReadAllBytesAsync(sound, Ct));
        using var replaced = await client.PutAsync($"/api/v1/databases/{database}/file", file, Ct);

        Assert.Single((await refused.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors("file"));
        await replaced.ExpectAsync(HttpStatusCode.OK);
        Assert.NotEqual(read.Headers.ETag!.Tag, replaced.Headers.ETag!.Tag);
    }

    private async Task<int> OperationsAsync(Guid resourceId)
    {
        await using var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        return await db.Operations.CountAsync(o => o.ResourceId == resourceId, Ct);
    }

    [Fact]
    public async Task A_script_downloads_a_ready_backup_with_its_token_and_a_stranger_or_a_read_only_token_gets_nothing()
    {
        var database = await portal.DatabaseAsync(await portal.AcmeAsync());
        var ready = await BackupAsync(database, DatabaseBackupState.Ready);
        var pending = await BackupAsync(database, DatabaseBackupState.Pending);
        var content = System.Text.Encoding.UTF8.GetBytes($"a dump {Guid.NewGuid()}");
        await File.WriteAllBytesAsync(portal.Services.GetRequiredService<DatabaseEngineRegistry>().BackupFile(ready), content, Ct);
        using var member = await portal.ClientAsync(ApiPortal.Member);
        using var readOnly = portal.Client((await portal.TokenAsync(ApiPortal.Member, readOnly: true)).Secret);
        using var stranger = portal.Client((await portal.TokenAsync(await portal.UserAsync((await portal.GlobexAsync(), TenantRole.Owner)))).Secret);
        var url = $"/api/v1/databases/{database.Id}/backups/{ready}/file";

        using var file = await member.GetAsync(url, Ct);
        using var notReady = await member.GetAsync($"/api/v1/databases/{database.Id}/backups/{pending}/file", Ct);
        using var refused = await readOnly.GetAsync(url, Ct);
        using var unknown = await stranger.GetAsync(url, Ct);

        Assert.Equal(HttpStatusCode.OK, file.StatusCode);
        Assert.Equal(content, await file.Content.ReadAsByteArrayAsync(Ct));
        Assert.Equal("attachment", file.Content.Headers.ContentDisposition?.DispositionType);
        Assert.EndsWith(".dump", file.Content.Headers.ContentDisposition?.FileNameStar ?? file.Content.Headers.ContentDisposition?.FileName?.Trim('"'), StringComparison.Ordinal);
        Assert.Equal("This backup is pending, not ready.", (await notReady.ExpectAsync(HttpStatusCode.NotFound)).Detail());
        Assert.Equal(Core.Access.AccessRules.ReadOnlyTokenReason, (await refused.ExpectAsync(HttpStatusCode.Forbidden)).Detail());
        Assert.Equal("This database does not exist or you may not see it.", (await unknown.ExpectAsync(HttpStatusCode.NotFound)).Detail());
        await using var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        Assert.Equal(1, await db.AuditEntries.CountAsync(a => a.Action == Core.Audit.AuditActions.DatabaseBackupDownloaded && a.Details == $"backup {ready}", Ct));
    }

    private async Task<Guid> BackupAsync(Resource database, DatabaseBackupState state)
    {
        await using var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        var backup = DatabaseBackups.Queue(db, database, "test", DateTimeOffset.UtcNow);
        backup.State = state;
        backup.SizeBytes = state == DatabaseBackupState.Ready ? 4096 : 0;
        await db.SaveChangesAsync(Ct);
        await Task.Delay(2, Ct);
        return backup.Id;
    }
}
