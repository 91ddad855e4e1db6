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
using VirtPortal.Core.Catalog;
using VirtPortal.Core.Data;
using VirtPortal.Core.Demo;
using VirtPortal.Core.Users;
using VirtPortal.Web.Components.Pages.Admin;
using TestContext = Xunit.TestContext;

namespace VirtPortal.Web.Tests.Admin;

/// <summary>The admin's catalog forms against the real catalog service on a real SQLite file.</summary>
public sealed class CatalogFormTests : PortalCoreComponentTest
{
    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await using var scope = Services.CreateAsyncScope();
        var admin = await scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>().FindByEmailAsync(AdminEmail);
        SignIn(admin!.Id, AdminEmail, GlobalRoles.Admin);
    }

    [Fact]
    public async Task A_size_without_vcpus_shows_why_next_to_the_vcpu_field_and_saving_creates_nothing()
    {
        var saved = false;
        var form = Render<SizeForm>(p => p.Add(x => x.OnSaved, _ => saved = true));

        form.Find("[data-testid=size-name]").Input("tiny");
        form.Find("[data-testid=size-vcpus]").Input("0");

        Assert.Contains("At least 1 vCPU.", FieldText(form, "size-vcpus"), StringComparison.Ordinal);
        Assert.Equal("true", form.Find("[data-testid=size-vcpus]").GetAttribute("aria-invalid"));
        Assert.DoesNotContain("At least", FieldText(form, "size-ram"), StringComparison.Ordinal);
        Assert.DoesNotContain("At least", FieldText(form, "size-name"), StringComparison.Ordinal);

        await form.Find("[data-testid=size-save]").ClickAsync(new());

        form.WaitForAssertion(() => Assert.Contains("At least 1 vCPU.", FieldText(form, "size-vcpus"), StringComparison.Ordinal));
        Assert.False(saved);
        Assert.Equal(0, await CountSizesAsync());
    }

    [Fact]
    public async Task A_valid_save_creates_the_size_and_reports_its_id()
    {
        var savedIds = new List<Guid>();
        var form = Render<SizeForm>(p => p.Add(x => x.OnSaved, id => savedIds.Add(id)));

        form.Find("[data-testid=size-name]").Input("  xlarge ");
        form.Find("[data-testid=size-vcpus]").Input("16");
        form.Find("[data-testid=size-ram]").Input("32768");
        form.Find("[data-testid=size-disk]").Input("320");
        await form.Find("[data-testid=size-save]").ClickAsync(new());

        form.WaitForAssertion(() => Assert.Single(savedIds));
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken);
        var size = await db.VmSizes.SingleAsync(TestContext.Current.CancellationToken);
        Assert.Equal((savedIds[0], "xlarge", 16, 32768, 320, true), (size.Id, size.Name, size.VCpus, size.RamMiB, size.DiskGiB, size.Enabled));
    }

    [Fact]
    public async Task Saving_a_size_another_admin_changed_since_the_form_opened_says_so_and_keeps_their_change()
    {
        var ct = TestContext.Current.CancellationToken;
        var catalog = Services.GetRequiredService<CatalogService>();
        var actor = await AdminAsync();
        var id = await catalog.CreateSizeAsync(actor, new SizeInput("small", 1, 1024, 10, 0.01m), ct);
        var opened = await catalog.GetSizeAsync(actor, id, ct);
        await catalog.UpdateSizeAsync(actor, id, new SizeInput("small", 2, 2048, 10, 0.02m), ct);
        var saved = false;
        var form = Render<SizeForm>(p => p.Add(x => x.Size, opened).Add(x => x.OnSaved, _ => saved = true));

        form.Find("[data-testid=size-vcpus]").Input("4");
        await form.Find("[data-testid=size-save]").ClickAsync(new());

        var snackbar = Services.GetRequiredService<ISnackbar>();
        form.WaitForAssertion(() => Assert.Contains(snackbar.ShownSnackbars,
            s => s.Message is { } m && m.StartsWith("The size changed since you read it (version 2, not 1)", StringComparison.Ordinal) && s.Severity == Severity.Warning));
        Assert.False(saved);
        Assert.Equal(2, (await catalog.GetSizeAsync(actor, id, ct)).VCpus);
    }

    [Fact]
    public async Task Switching_a_size_off_on_the_catalog_page_disables_it_and_keeps_its_row()
    {
        await using (var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken))
        {
            await DemoCatalog.SeedAsync(db, TimeProvider.System, TestContext.Current.CancellationToken);
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        Render<MudPopoverProvider>();
        var page = Render<Catalog>();
        await page.WaitForElement("[data-testid=catalog-tab-sizes]").ClickAsync(new());
        page.WaitForAssertion(() => page.Find("[data-testid=size-enabled-medium]"));

        page.Find("[data-testid=size-enabled-medium]").Change(false);

        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=size-enabled-medium]").HasAttribute("checked")));
        await using var check = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken);
        Assert.False(await check.VmSizes.Where(s => s.Name == "medium").Select(s => s.Enabled).SingleAsync(TestContext.Current.CancellationToken));
        Assert.NotNull(page.Find("[data-testid=size-row-medium]"));
    }

    private async Task<Actor> AdminAsync()
    {
        await using var scope = Services.CreateAsyncScope();
        var admin = await scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>().FindByEmailAsync(AdminEmail);
        return new Actor(admin!.Id, AdminEmail, new HashSet<string> { GlobalRoles.Admin });
    }

    /// <summary>
    /// The text of the smallest block around a field that holds no other field: its label, value
    /// and the message shown under it.
    /// </summary>
    private static string FieldText<T>(IRenderedComponent<T> form, string testId)
        where T : Microsoft.AspNetCore.Components.IComponent
    {
        IElement block = form.Find($"[data-testid={testId}]");
        while (block.ParentElement is { } parent && parent.QuerySelectorAll("input, textarea").Length == 1)
            block = parent;
        return block.TextContent;
    }

    private async Task<int> CountSizesAsync()
    {
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken);
        return await db.VmSizes.CountAsync(TestContext.Current.CancellationToken);
    }
}
