using System.Security.Claims;
using AngleSharp.Dom;
using Bunit;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using VirtPortal.Core;
using VirtPortal.Core.Bootstrap;
using VirtPortal.Core.Data;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;
using VirtPortal.Web.Components.Pages.Tenants;
using TestContext = Xunit.TestContext;

namespace VirtPortal.Web.Tests.Tenants;

/// <summary>The admin's tenant form against the real tenant service on a real SQLite file.</summary>
public sealed class TenantFormTests : PortalCoreComponentTest
{
    private string adminId = "";

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await using var scope = Services.CreateAsyncScope();
        var admin = await scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>().FindByEmailAsync(AdminEmail);
        adminId = admin!.Id;
        SignIn(adminId, AdminEmail, GlobalRoles.Admin);
    }

    [Theory]
    [InlineData("", "Enter a name for the tenant.")]
    [InlineData("A", "A tenant name has at least 2 characters.")]
    public void Typing_a_too_short_name_shows_why_next_to_the_name_field(string name, string message)
    {
        var form = Render<TenantForm>();

        // A user who clears the field has typed something first; an unchanged value raises no event.
        form.Find("[data-testid=tenant-name]").Input("Ac");
        form.Find("[data-testid=tenant-name]").Input(name);

        Assert.Contains(message, FieldText(form, "tenant-name"), StringComparison.Ordinal);
        Assert.Equal("true", form.Find("[data-testid=tenant-name]").GetAttribute("aria-invalid"));
    }

    [Fact]
    public void A_negative_quota_shows_why_next_to_that_field_only()
    {
        var form = Render<TenantForm>();

        form.Find("[data-testid=quota-vms-input]").Input("-1");

        Assert.Contains("A quota cannot be negative (use 0 to allow no VMs).", FieldText(form, "quota-vms-input"), StringComparison.Ordinal);
        Assert.DoesNotContain("negative", FieldText(form, "quota-vcpus-input"), StringComparison.Ordinal);
        Assert.DoesNotContain("negative", FieldText(form, "tenant-name"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Saving_a_name_that_exists_in_another_case_shows_already_exists_and_creates_nothing()
    {
        await Services.GetRequiredService<TenantService>().CreateAsync(Admin(), "Acme Research", null, TenantQuota.Default, TestContext.Current.CancellationToken);
        var saved = false;
        var form = Render<TenantForm>(p => p.Add(x => x.OnSaved, _ => saved = true));

        form.Find("[data-testid=tenant-name]").Input("ACME research");
        await form.Find("[data-testid=tenant-save]").ClickAsync(new());

        form.WaitForAssertion(() => Assert.Contains("already exists", FieldText(form, "tenant-name"), StringComparison.Ordinal));
        Assert.False(saved);
        Assert.Equal(1, await CountTenantsAsync());
    }

    [Fact]
    public async Task A_valid_save_creates_the_tenant_and_reports_its_id()
    {
        var savedIds = new List<Guid>();
        var form = Render<TenantForm>(p => p.Add(x => x.OnSaved, id => savedIds.Add(id)));

        form.Find("[data-testid=tenant-name]").Input("  Initech Labs ");
        form.Find("[data-testid=tenant-description]").Input("Staplers");
        form.Find("[data-testid=quota-vms-input]").Input("7");
        await form.Find("[data-testid=tenant-save]").ClickAsync(new());

        form.WaitForAssertion(() => Assert.Single(savedIds));
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken);
        var tenant = await db.Tenants.SingleAsync(TestContext.Current.CancellationToken);
        Assert.Equal(savedIds[0], tenant.Id);
        Assert.Equal("Initech Labs", tenant.Name);
        Assert.Equal("Staplers", tenant.Description);
        Assert.Equal(7, tenant.Quota.Vms);
    }

    [Fact]
    public async Task A_non_admin_is_refused_and_told_so_and_nothing_is_created()
    {
        SignIn("member-id", "mia@example.test");
        var snackbars = Render<MudSnackbarProvider>();
        var saved = false;
        var form = Render<TenantForm>(p => p.Add(x => x.OnSaved, _ => saved = true));

        form.Find("[data-testid=tenant-name]").Input("Sneaky Tenant");
        await form.Find("[data-testid=tenant-save]").ClickAsync(new());

        snackbars.WaitForAssertion(() => Assert.Contains("You do not have permission to do that.", snackbars.Markup, StringComparison.Ordinal));
        Assert.False(saved);
        Assert.Equal(0, await CountTenantsAsync());
    }

    /// <summary>
    /// The text of the smallest block around a field that holds no other field: its label, value
    /// and the message shown under it.
    /// </summary>
    private static string FieldText(IRenderedComponent<TenantForm> form, string testId)
    {
        IElement block = form.Find($"[data-testid={testId}]");
        while (block.ParentElement is { } parent && parent.QuerySelectorAll("input, textarea").Length == 1)
            block = parent;
        return block.TextContent;
    }

    private Actor Admin() => new(adminId, AdminEmail, new HashSet<string> { GlobalRoles.Admin });

    private async Task<int> CountTenantsAsync()
    {
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken);
        return await db.Tenants.CountAsync(TestContext.Current.CancellationToken);
    }

}
