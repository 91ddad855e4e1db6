using AngleSharp.Dom;
using Bunit;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Npgsql;
using VirtPortal.Core.Data;
using VirtPortal.Core.Users;
using VirtPortal.Databases.Tests;
using VirtPortal.Web.Components.Pages.Admin;

namespace VirtPortal.Web.Tests.Admin;

/// <summary>
/// The database servers page and its form against the real service: the embedded SQLite server the first
/// run registers, and a real PostgreSQL server (started for this class) to add.
/// </summary>
public sealed class DatabaseServersPageTests(PostgresServer postgres) : PortalCoreComponentTest, IClassFixture<PostgresServer>
{
    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await using var scope = Services.CreateAsyncScope();
        var user = await scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>().FindByEmailAsync(AdminEmail);
        SignIn(user!.Id, AdminEmail, GlobalRoles.Admin);
    }

    [Fact]
    public void The_embedded_server_is_a_row_with_what_it_holds_against_its_capacity()
    {
        var page = Render<DatabaseServerList>();

        page.WaitForAssertion(() => Assert.Equal("Online", page.Find("[data-testid=database-server-embedded-state]").TextContent.Trim()));
        Assert.Equal("files in the portal's data directory", page.Find("[data-testid=database-server-embedded-endpoint]").TextContent);
        Assert.Equal("0 / 1000", Caption(page, "database-server-embedded-databases"));
        Assert.Equal("0 GiB / 100 GiB", Caption(page, "database-server-embedded-storage"));
    }

    [Fact]
    public async Task A_server_added_through_the_dialog_appears_as_an_online_row_and_its_password_is_nowhere_on_the_page()
    {
        var dialogs = Render<MudDialogProvider>();
        var page = Render<DatabaseServerList>();
        var password = new NpgsqlConnectionStringBuilder(postgres.AdminConnectionString).Password!;

        // The page awaits the dialog's result, so the click is not awaited: it ends when the dialog closes.
        var opening = page.WaitForElement("[data-testid=database-server-add]").ClickAsync(new());
        dialogs.WaitForElement("[data-testid=database-server-form-name]").Input("db1");
        dialogs.Find("[data-testid=database-server-form-connection]").Input(postgres.AdminConnectionString);
        dialogs.Find("[data-testid=database-server-form-max-databases]").Input("20");
        await dialogs.Find("[data-testid=database-server-form-save]").ClickAsync(new());

        await opening.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        page.WaitForAssertion(() => Assert.Equal("Online", page.Find("[data-testid=database-server-db1-state]").TextContent.Trim()));
        Assert.Equal($"postgres@127.0.0.1:{postgres.Port}", page.Find("[data-testid=database-server-db1-endpoint]").TextContent);
        Assert.StartsWith("PostgreSQL 15", page.Find("[data-testid=database-server-db1-version]").TextContent.Trim(), StringComparison.Ordinal);
        Assert.Equal("0 / 20", Caption(page, "database-server-db1-databases"));
        Assert.DoesNotContain(password, page.Markup, StringComparison.Ordinal);
        Assert.DoesNotContain(password, dialogs.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_connection_string_is_explained_next_to_its_field_as_it_is_typed_and_saving_adds_nothing()
    {
        var saved = false;
        var form = Render<DatabaseServerForm>(p => p.Add(x => x.OnSaved, _ => saved = true));

        form.Find("[data-testid=database-server-form-name]").Input("db1");
        form.Find("[data-testid=database-server-form-connection]").Input("Username=postgres");

        Assert.Contains("Name the server with Host=", FieldText(form, "database-server-form-connection"), StringComparison.Ordinal);
        await form.Find("[data-testid=database-server-form-save]").ClickAsync(new());
        form.WaitForAssertion(() => Assert.Contains("Name the server with Host=", FieldText(form, "database-server-form-connection"), StringComparison.Ordinal));
        Assert.False(saved);
        Assert.Equal(["embedded"], await ServerNamesAsync());
    }

    [Fact]
    public async Task A_server_that_refuses_the_connection_is_not_added_and_its_reason_shows_next_to_the_connection()
    {
        var form = Render<DatabaseServerForm>();
        var wrong = new NpgsqlConnectionStringBuilder(postgres.AdminConnectionString) { Password = "wrong-page-password" }.ConnectionString;

        form.Find("[data-testid=database-server-form-name]").Input("db1");
        form.Find("[data-testid=database-server-form-connection]").Input(wrong);
        await form.Find("[data-testid=database-server-form-save]").ClickAsync(new());

        form.WaitForAssertion(() => Assert.Contains("password authentication failed for user \"postgres\"", FieldText(form, "database-server-form-connection"), StringComparison.Ordinal));
        Assert.Equal(["embedded"], await ServerNamesAsync());
    }

    [Fact]
    public async Task Maintenance_is_switched_on_and_off_from_the_row()
    {
        var page = Render<DatabaseServerList>();

        await page.WaitForElement("[data-testid=database-server-embedded-maintenance]").ClickAsync(new());
        page.WaitForAssertion(() => Assert.Equal("Maintenance", page.Find("[data-testid=database-server-embedded-state]").TextContent.Trim()));
        Assert.Equal("End maintenance", page.Find("[data-testid=database-server-embedded-maintenance]").GetAttribute("aria-label"));
        await page.Find("[data-testid=database-server-embedded-maintenance]").ClickAsync(new());

        page.WaitForAssertion(() => Assert.Equal("Online", page.Find("[data-testid=database-server-embedded-state]").TextContent.Trim()));
    }

    [Fact]
    public async Task Removing_the_embedded_server_is_refused_with_its_reason_and_the_row_stays()
    {
        var dialogs = Render<MudDialogProvider>();
        var snackbars = Render<MudSnackbarProvider>();
        var page = Render<DatabaseServerList>();

        var asking = page.WaitForElement("[data-testid=database-server-embedded-remove]").ClickAsync(new());
        var confirm = dialogs.WaitForElement("button:contains('Remove')");
        Assert.Contains("Remove embedded?", dialogs.Markup, StringComparison.Ordinal);
        await confirm.ClickAsync(new());
        await asking.WaitAsync(TimeSpan.FromSeconds(5), Ct);

        snackbars.WaitForAssertion(() => Assert.Contains("embedded is the portal's embedded SQLite server, where SQLite databases live: it cannot be removed.", snackbars.Markup, StringComparison.Ordinal));
        Assert.Equal("Online", page.Find("[data-testid=database-server-embedded-state]").TextContent.Trim());
        Assert.Equal(["embedded"], await ServerNamesAsync());
    }

    [Fact]
    public async Task Someone_who_is_not_an_admin_gets_access_denied_and_no_server_list()
    {
        var helpdesk = await Services.GetRequiredService<UserAdministration>().CreateAsync(Actor.System, new NewUser("helpdesk@portal.test", "", [GlobalRoles.Helpdesk]), Ct);
        SignIn(helpdesk.UserId, "helpdesk@portal.test", GlobalRoles.Helpdesk);

        var page = Render<DatabaseServerList>();

        page.WaitForAssertion(() => Assert.Contains("Database servers are for admins.", page.Find("[data-testid=forbidden]").TextContent, StringComparison.Ordinal));
        Assert.Empty(page.FindAll("[data-testid=database-servers-table]"));
        Assert.Empty(page.FindAll("[data-testid=database-server-add]"));
    }

    private static string Caption(IRenderedComponent<DatabaseServerList> page, string testId) =>
        page.Find($"[data-testid={testId}] .mud-typography").TextContent.Trim();

    /// <summary>The text of the smallest block around a field that holds no other field: its label, value and message.</summary>
    private static string FieldText(IRenderedComponent<DatabaseServerForm> form, string testId)
    {
        IElement block = form.Find($"[data-testid={testId}]");
        while (block.ParentElement is { } parent && parent.QuerySelectorAll("input, textarea").Length == 1)
            block = parent;
        return block.TextContent;
    }

    private async Task<List<string>> ServerNamesAsync()
    {
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        return await db.DatabaseServers.OrderBy(s => s.Name).Select(s => s.Name).ToListAsync(Ct);
    }
}
