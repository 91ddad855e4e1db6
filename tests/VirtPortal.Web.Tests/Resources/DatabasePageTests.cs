using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Catalog;
using VirtPortal.Core.Data;
using VirtPortal.Core.Databases;
using VirtPortal.Core.Demo;
using VirtPortal.Core.Live;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Users;
using VirtPortal.Web.Components;
using VirtPortal.Web.Components.Pages.Requests;
using VirtPortal.Web.Components.Pages.Resources;
using VirtPortal.Web.Components.Pages.Tenants;

namespace VirtPortal.Web.Tests.Resources;

/// <summary>
/// The database page as each role sees it. The PostgreSQL database is arranged as the worker leaves one
/// (placed on a registered server, its password protected and waiting: no PostgreSQL runs here); the SQLite
/// one goes through the real worker onto the embedded server.
/// </summary>
public sealed class DatabasePageTests : PortalCoreComponentTest
{
    private const string Member = "member@demo.virtportal.local";
    private const string Helpdesk = "helpdesk@demo.virtportal.local";
    private const string AdminConnection = "Host=db1.internal;Port=6543;Username=postgres;Password=admin-secret-31337";
    private const string OwnerPassword = "Kq7mZ2xV9pR4tW8yB3nC6dF5gH2jL7sA";

    private readonly DirectoryInfo data;
    private Guid acmeTenantId;
    private Guid globexTenantId;
    private Guid serverId;
    private Guid ordersId;
    private Guid globexDatabaseId;
    private BunitJSModuleInterop clipboard = default!;

    public DatabasePageTests()
        : this(Directory.CreateTempSubdirectory("virtportal-db-page-"))
    {
    }

    private DatabasePageTests(DirectoryInfo data)
        : base(demo: true, services: s => s.Configure<DatabaseOptions>(o =>
        {
            o.SqliteDirectory = Path.Combine(data.FullName, "databases");
            o.BackupDirectory = Path.Combine(data.FullName, "backups");
        })) => this.data = data;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        clipboard = JSInterop.SetupModule("./js/clipboard.js");
        clipboard.Setup<bool>("copyText", _ => true).SetResult(true);

        var secrets = Services.GetRequiredService<DatabaseServerSecrets>();
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        var now = DateTimeOffset.UtcNow;
        acmeTenantId = await db.Tenants.Where(t => t.Name == DemoAccounts.AcmeTenant).Select(t => t.Id).SingleAsync(Ct);
        globexTenantId = await db.Tenants.Where(t => t.Name == DemoAccounts.GlobexTenant).Select(t => t.Id).SingleAsync(Ct);
        var offering = await db.DatabaseOfferings.Where(o => o.Engine == DatabaseEngineKind.PostgreSql).Select(o => o.Id).FirstAsync(Ct);
        var server = new DatabaseServer
        {
            Id = Guid.CreateVersion7(now), Name = "db1", Engine = DatabaseEngineKind.PostgreSql, ProtectedAdminConnection = secrets.Protect(AdminConnection),
            Endpoint = DatabaseServerSecrets.Describe(AdminConnection), State = DatabaseServerState.Online, CreatedAt = now, LastSeenAt = now,
        };
        db.DatabaseServers.Add(server);
        serverId = server.Id;
        ordersId = AddPostgres(db, secrets, acmeTenantId, "orders", offering, now);
        globexDatabaseId = AddPostgres(db, secrets, globexTenantId, "globex_secret", offering, now);
        await db.SaveChangesAsync(Ct);
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        await base.DisposeAsyncCore();
        data.Delete(recursive: true);
    }

    [Fact]
    public async Task The_size_and_sessions_follow_each_check_of_the_server_and_another_databases_figures_change_nothing()
    {
        await SignInAsync(Member);
        var page = RenderDatabase(ordersId);
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=db-size]")));
        var live = Services.GetRequiredService<LiveUpdates>();

        live.Publish(new DatabaseSampled(acmeTenantId, Guid.NewGuid(), DateTimeOffset.UtcNow, 9L << 30, 99));
        live.Publish(new DatabaseSampled(acmeTenantId, ordersId, DateTimeOffset.UtcNow, 5L << 20, 3));

        page.WaitForAssertion(() => Assert.EndsWith("· 5 MiB used · 3 connections", page.Find("[data-testid=db-size]").TextContent.Trim(), StringComparison.Ordinal));
        live.Publish(new DatabaseSampled(acmeTenantId, ordersId, DateTimeOffset.UtcNow, 6L << 20, 4));
        page.WaitForAssertion(() => Assert.EndsWith("· 6 MiB used · 4 connections", page.Find("[data-testid=db-size]").TextContent.Trim(), StringComparison.Ordinal));
        Assert.DoesNotContain("99 connections", page.Markup, StringComparison.Ordinal);
        // The charts of its size and sessions draw the same checks, pushed to the browser by the live hub.
        var charts = page.Find("[data-testid=db-charts] [data-testid=live-charts]");
        Assert.Equal(("database", ordersId.ToString()), (charts.GetAttribute("data-kind"), charts.GetAttribute("data-resource")));
    }

    [Fact]
    public async Task A_member_reveals_the_password_once_with_it_in_the_connection_strings_and_a_fresh_page_no_longer_has_it()
    {
        await SignInAsync(Member);
        var page = RenderDatabase(ordersId);
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=db-password-reveal]")));
        Assert.DoesNotContain(OwnerPassword, page.Markup, StringComparison.Ordinal);
        Assert.Contains(DatabaseConnectionStrings.PasswordPlaceholder, page.Find("[data-testid=db-connection-libpq]").TextContent, StringComparison.Ordinal);

        await page.Find("[data-testid=db-password-reveal]").ClickAsync(new());

        page.WaitForAssertion(() => Assert.Equal(OwnerPassword, page.Find("[data-testid=db-password]").GetAttribute("value")));
        var name = DatabaseName(ordersId);
        Assert.Equal($"postgresql://{name}_owner:{OwnerPassword}@db1.internal:6543/{name}", page.Find("[data-testid=db-connection-libpq]").TextContent.Trim());
        Assert.Contains($"PGPASSWORD='{OwnerPassword}' psql", page.Find("[data-testid=db-connection-psql]").TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain("admin-secret-31337", page.Markup, StringComparison.Ordinal);
        await page.Find("[data-testid=db-password-copy]").ClickAsync(new());
        Assert.Equal(OwnerPassword, clipboard.VerifyInvoke("copyText").Arguments[0]);

        // Coming back (a reload, another visit) renders the page afresh: the password is gone for good.
        page.Dispose();
        var again = RenderDatabase(ordersId);
        again.WaitForAssertion(() => Assert.NotNull(again.Find("[data-testid=db-password-seen]")));
        Assert.DoesNotContain(OwnerPassword, again.Markup, StringComparison.Ordinal);
        Assert.Empty(again.FindAll("[data-testid=db-password-reveal]"));
        Assert.Contains(DatabaseConnectionStrings.PasswordPlaceholder, again.Find("[data-testid=db-connection-libpq]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_live_change_of_the_database_keeps_the_password_on_screen_and_never_brings_it_to_another_viewer()
    {
        await SignInAsync(Member);
        var page = RenderDatabase(ordersId);
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=db-password-reveal]")));
        await page.Find("[data-testid=db-password-reveal]").ClickAsync(new());
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=db-password]")));

        await SetServerStateAsync(DatabaseServerState.Maintenance);

        page.WaitForAssertion(() => Assert.Equal(nameof(DatabaseServerState.Maintenance), page.Find("[data-testid=db-server-state]").GetAttribute("data-state")));
        Assert.Equal(OwnerPassword, page.Find("[data-testid=db-password]").GetAttribute("value"));
        var other = RenderDatabase(ordersId);
        other.WaitForAssertion(() => Assert.NotNull(other.Find("[data-testid=db-password-seen]")));
        Assert.DoesNotContain(OwnerPassword, other.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Helpdesk_sees_the_database_and_that_a_password_waits_but_has_no_button_to_reveal_it_or_act()
    {
        await SignInAsync(Helpdesk, GlobalRoles.Helpdesk);

        var page = RenderDatabase(ordersId);

        page.WaitForAssertion(() => Assert.Equal("orders", page.Find("[data-testid=db-title]").TextContent.Trim()));
        Assert.NotNull(page.Find("[data-testid=db-password-waiting]"));
        Assert.Empty(page.FindAll("[data-testid=db-password-reveal]"));
        Assert.Empty(page.Find("[data-testid=db-actions]").QuerySelectorAll("button, a"));
        Assert.DoesNotContain(OwnerPassword, page.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Another_tenants_member_is_refused_exactly_as_for_a_database_that_does_not_exist()
    {
        await SignInAsync(Member);

        var forbidden = RenderDatabase(globexDatabaseId);
        var unknown = RenderDatabase(Guid.CreateVersion7());

        forbidden.WaitForAssertion(() => Assert.NotNull(forbidden.Find("[data-testid=forbidden]")));
        unknown.WaitForAssertion(() => Assert.NotNull(unknown.Find("[data-testid=forbidden]")));
        Assert.Equal(unknown.Find("[data-testid=forbidden]").TextContent, forbidden.Find("[data-testid=forbidden]").TextContent);
        Assert.DoesNotContain("globex_secret", forbidden.Markup, StringComparison.Ordinal);
        Assert.DoesNotContain(OwnerPassword, forbidden.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_database_shows_its_own_health_apart_from_its_servers_and_follows_the_server_live()
    {
        await SetServerStateAsync(DatabaseServerState.Unreachable);
        await SignInAsync(Member);

        var page = RenderDatabase(ordersId);

        page.WaitForAssertion(() => Assert.Equal(nameof(DatabaseServerState.Unreachable), page.Find("[data-testid=db-server-state]").GetAttribute("data-state")));
        Assert.Equal(nameof(ResourceState.Running), page.Find("[data-testid=db-state]").GetAttribute("data-state"));
        Assert.Contains("not answering", page.Find("[data-testid=db-server]").TextContent, StringComparison.Ordinal);

        await SetServerStateAsync(DatabaseServerState.Online);

        page.WaitForAssertion(() => Assert.Equal(nameof(DatabaseServerState.Online), page.Find("[data-testid=db-server-state]").GetAttribute("data-state")));
        Assert.DoesNotContain("not answering", page.Find("[data-testid=db-server]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_member_asks_for_a_new_password_and_the_new_one_waits_for_its_look()
    {
        await SignInAsync(Member);
        var page = RenderDatabase(ordersId);
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=db-orders-rotatepassword]")));

        await page.Find("[data-testid=db-orders-rotatepassword]").ClickAsync(new());

        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        var queued = await db.Operations.SingleAsync(o => o.ResourceId == ordersId && o.Kind == OperationKind.RotatePassword, Ct);
        Assert.Equal(OperationState.Pending, queued.State);
        page.WaitForAssertion(() => Assert.Equal(nameof(OperationState.Pending), page.Find($"[data-testid=db-operation-state-{queued.Id}]").GetAttribute("data-state")));
    }

    [Fact]
    public async Task An_SQLite_database_lists_its_backups_to_download_or_restore_and_has_no_password()
    {
        var member = await SignInAsync(Member);
        var database = await SqliteDatabaseAsync(member, "notes");
        await Services.GetRequiredService<ResourceActions>().RequestAsync(member, database, OperationKind.Backup, ct: Ct);
        Assert.True(await Services.GetRequiredService<ProvisioningService>().RunOnceAsync("worker-a", Ct));

        var page = RenderDatabase(database);

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid^=db-backup-download-]")));
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        var backup = await db.DatabaseBackups.SingleAsync(b => b.ResourceId == database, Ct);
        var offering = await db.Resources.Where(r => r.Id == database).Select(r => r.OfferingId).SingleAsync(Ct);
        var download = page.Find($"[data-testid=db-backup-download-{backup.Id}]");
        Assert.Equal(PortalRoutes.DatabaseBackupFile(database, backup.Id), download.GetAttribute("href"));
        Assert.True(download.HasAttribute("download"));
        Assert.Equal(PortalRoutes.RestoreBackup(acmeTenantId, backup.Id, offering), page.Find($"[data-testid=db-backup-restore-{backup.Id}]").GetAttribute("href"));
        Assert.Equal(nameof(DatabaseBackupState.Ready), page.Find($"[data-testid=db-backup-state-{backup.Id}]").GetAttribute("data-state"));
        Assert.Equal(PortalRoutes.DatabaseFile(database), page.Find("[data-testid=db-file-download]").GetAttribute("href"));
        Assert.NotNull(page.Find("[data-testid=db-file-upload]"));
        Assert.Empty(page.FindAll("[data-testid=db-notes-rotatepassword]"));
        Assert.Empty(page.FindAll("[data-testid=db-password-reveal]"));
        Assert.NotNull(page.Find("[data-testid=db-notes-delete]"));
        // The file's size, asked of the engine once the page is up.
        page.WaitForAssertion(() => Assert.Matches("^1 GiB allocated · [0-9.]+ KiB used$", page.Find("[data-testid=db-size]").TextContent.Trim()));
        // A file has a size to chart but no sessions.
        Assert.Equal("database-file", page.Find("[data-testid=db-charts] [data-testid=live-charts]").GetAttribute("data-kind"));
    }

    [Fact]
    public async Task Restore_into_a_new_database_opens_the_request_form_with_the_backup_and_the_request_keeps_it()
    {
        var member = await SignInAsync(Member);
        var database = await SqliteDatabaseAsync(member, "notes");
        await Services.GetRequiredService<ResourceActions>().RequestAsync(member, database, OperationKind.Backup, ct: Ct);
        await Services.GetRequiredService<ProvisioningService>().RunOnceAsync("worker-a", Ct);
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        var backup = await db.DatabaseBackups.SingleAsync(b => b.ResourceId == database, Ct);
        var offering = await db.Resources.Where(r => r.Id == database).Select(r => r.OfferingId).SingleAsync(Ct);
        Services.GetRequiredService<NavigationManager>().NavigateTo(PortalRoutes.RestoreBackup(acmeTenantId, backup.Id, offering));

        var form = Render<NewRequest>();
        form.WaitForAssertion(() => Assert.Contains(backup.Id.ToString(), form.Find("[data-testid=request-restore]").TextContent, StringComparison.Ordinal));
        form.Find("[data-testid=request-name]").Input("notes_copy");
        form.WaitForAssertion(() => Assert.False(form.Find("[data-testid=request-submit]").HasAttribute("disabled")));
        await form.Find("[data-testid=request-submit]").ClickAsync(new());

        form.WaitForAssertion(() => Assert.Equal(backup.Id, db.Requests.AsNoTracking().Single(r => r.Name == "notes_copy").RestoreFromBackupId));
    }

    [Fact]
    public async Task The_tenant_page_links_each_database_to_its_page()
    {
        await SignInAsync(Member);

        var page = Render<TenantPage>(p => p.Add(x => x.TenantId, acmeTenantId));

        page.WaitForAssertion(() => Assert.Equal(PortalRoutes.Database(ordersId), page.Find("[data-testid=db-orders-link]").GetAttribute("href")));
    }

    private IRenderedComponent<DatabasePage> RenderDatabase(Guid id) => Render<DatabasePage>(p => p.Add(x => x.DatabaseId, id));

    private async Task<Guid> SqliteDatabaseAsync(Actor member, string name)
    {
        await using (var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct))
        {
            var offering = await db.DatabaseOfferings.Where(o => o.Engine == DatabaseEngineKind.Sqlite).Select(o => o.Id).FirstAsync(Ct);
            await Services.GetRequiredService<RequestDrafts>().SubmitAsync(member, new RequestDraft
            {
                Kind = RequestKind.NewDatabase, TenantId = acmeTenantId, Name = name, OfferingId = offering, LeaseDays = 7, Justification = "for the tests",
            }, Ct);
        }

        Assert.True(await Services.GetRequiredService<ProvisioningService>().RunOnceAsync("worker-a", Ct));
        await using var check = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        var database = await check.Resources.SingleAsync(r => r.TenantId == acmeTenantId && r.Name == name, Ct);
        Assert.Equal(ResourceState.Running, database.State);
        return database.Id;
    }

    private async Task SetServerStateAsync(DatabaseServerState state)
    {
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        var server = await db.DatabaseServers.SingleAsync(s => s.Id == serverId, Ct);
        server.State = state;
        var orders = await db.Resources.SingleAsync(r => r.Id == ordersId, Ct);
        ResourceLifecycle.Touch(orders);
        await db.SaveChangesAsync(Ct);
        Services.GetRequiredService<LiveUpdates>().Publish(new ResourceChanged(acmeTenantId, ordersId, orders.Version));
    }

    private string DatabaseName(Guid id)
    {
        using var db = Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext();
        return db.Resources.Where(r => r.Id == id).Select(r => r.DatabaseName!).Single();
    }

    private Guid AddPostgres(PortalDbContext db, DatabaseServerSecrets secrets, Guid tenantId, string name, Guid offering, DateTimeOffset now)
    {
        var id = Guid.CreateVersion7(now);
        db.Resources.Add(new Resource
        {
            Id = id, TenantId = tenantId, Kind = ResourceKind.Database, Name = name, OfferingId = offering, DiskGiB = 10, State = ResourceState.Running,
            CreatedAt = now, LeaseEndsAt = now.AddDays(30), Version = 1, DatabaseServerId = serverId, DatabaseName = DatabaseNames.ServerName(name, id),
        });
        db.DatabaseCredentials.Add(new DatabaseCredential { ResourceId = id, ProtectedPassword = secrets.ProtectPassword(OwnerPassword), IssuedAt = now });
        return id;
    }

    private async Task<Actor> SignInAsync(string email, params string[] roles)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var user = await users.FindByEmailAsync(email) ?? throw new InvalidOperationException(email + " is not seeded");
        SignIn(user.Id, email, roles);
        return new Actor(user.Id, email, (await users.GetRolesAsync(user)).ToHashSet());
    }
}
