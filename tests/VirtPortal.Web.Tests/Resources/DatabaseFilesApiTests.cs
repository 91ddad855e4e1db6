using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Catalog;
using VirtPortal.Core.Data;
using VirtPortal.Core.Databases;
using VirtPortal.Core.Demo;
using VirtPortal.Core.Resources;
using VirtPortal.Web.Components;

namespace VirtPortal.Web.Tests.Resources;

/// <summary>
/// The download endpoint of database backups, through the whole portal and the real sign-in: an attachment
/// for those who see the database, the same refusal for another tenant's member as for an unknown backup.
/// </summary>
public sealed class DatabaseFilesApiTests(PortalAppFactory portal) : IClassFixture<PortalAppFactory>
{
    private const string Member = "member@demo.virtportal.local"; // Acme only
    private const string Owner = "owner@demo.virtportal.local"; // also a member of Globex

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_member_of_the_databases_tenant_downloads_its_backup_as_an_attachment()
    {
        var (database, backup, bytes) = await GlobexBackupAsync("ledger");
        using var browser = await portal.SignInAsDemoAsync(Owner);

        using var response = await browser.GetAsync(PortalRoutes.DatabaseBackupFile(database, backup), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.StartsWith("ledger-", response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName, StringComparison.Ordinal);
        Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync(Ct));
    }

    [Fact]
    public async Task Another_tenants_member_is_refused_the_backup_exactly_as_an_unknown_one()
    {
        var (database, backup, bytes) = await GlobexBackupAsync("payroll");
        using var browser = await portal.SignInAsDemoAsync(Member);

        using var forbidden = await browser.GetAsync(PortalRoutes.DatabaseBackupFile(database, backup), Ct);
        using var unknown = await browser.GetAsync(PortalRoutes.DatabaseBackupFile(Guid.NewGuid(), Guid.NewGuid()), Ct);

        Assert.Equal(HttpStatusCode.NotFound, forbidden.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var refusal = await forbidden.Content.ReadAsStringAsync(Ct);
        Assert.Equal(Problem(await unknown.Content.ReadAsStringAsync(Ct)), Problem(refusal));
        Assert.Equal("This database does not exist or you may not see it.", Problem(refusal).Detail);
        Assert.DoesNotContain("payroll", refusal, StringComparison.Ordinal);
        Assert.True(refusal.Length < bytes.Length);
    }

    [Fact]
    public async Task Nobody_signed_out_gets_a_backup()
    {
        var (database, backup, _) = await GlobexBackupAsync("invoices");
        using var browser = portal.CreateBrowser();

        using var response = await browser.GetAsync(PortalRoutes.DatabaseBackupFile(database, backup), Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Null(response.Content.Headers.ContentDisposition);
    }

    private static (string? Title, string? Detail, int Status) Problem(string json)
    {
        using var problem = System.Text.Json.JsonDocument.Parse(json);
        var root = problem.RootElement;
        return (root.GetProperty("title").GetString(), root.GetProperty("detail").GetString(), root.GetProperty("status").GetInt32());
    }

    /// <summary>A Globex database with one ready backup, as the worker leaves them (the row and its file).</summary>
    private async Task<(Guid Database, Guid Backup, byte[] Bytes)> GlobexBackupAsync(string name)
    {
        var globex = await portal.TenantIdAsync(DemoAccounts.GlobexTenant);
        var now = DateTimeOffset.UtcNow;
        await using var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        var server = await db.DatabaseServers.AsNoTracking().FirstAsync(s => s.Engine == DatabaseEngineKind.Sqlite, Ct);
        var id = Guid.CreateVersion7(now);
        db.Resources.Add(new Resource
        {
            Id = id, TenantId = globex, Kind = ResourceKind.Database, Name = name, DiskGiB = 1, State = ResourceState.Running, CreatedAt = now,
            LeaseEndsAt = now.AddDays(7), Version = 1, DatabaseServerId = server.Id, DatabaseName = DatabaseNames.ServerName(name, id),
        });
        var backup = new DatabaseBackup
        {
            Id = Guid.CreateVersion7(now), ResourceId = id, TenantId = globex, State = DatabaseBackupState.Ready, CreatedAt = now, FinishedAt = now,
            Engine = DatabaseEngineKind.Sqlite, RequestedBy = "someone",
        };
        var bytes = System.Security.Cryptography.RandomNumberGenerator.GetBytes(4096);
        await File.WriteAllBytesAsync(portal.Services.GetRequiredService<DatabaseEngineRegistry>().BackupFile(backup.Id), bytes, Ct);
        backup.SizeBytes = bytes.Length;
        db.DatabaseBackups.Add(backup);
        await db.SaveChangesAsync(Ct);
        return (id, backup.Id, bytes);
    }
}
