using Bunit;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Data;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Reconciliation;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;
using VirtPortal.Web.Components.Pages.Admin;

namespace VirtPortal.Web.Tests.Reconciliation;

/// <summary>The admins' drift inbox against the real reconciler, drift service and LiveUpdates bus.</summary>
public sealed class DriftInboxTests : PortalCoreComponentTest
{
    private Actor admin = default!;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await using var scope = Services.CreateAsyncScope();
        var user = await scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>().FindByEmailAsync(AdminEmail);
        SignIn(user!.Id, AdminEmail, GlobalRoles.Admin);
        admin = new Actor(user.Id, AdminEmail, new HashSet<string> { GlobalRoles.Admin });
    }

    [Fact]
    public async Task Drift_found_by_the_reconciler_appears_on_an_open_inbox_and_leaves_when_another_admin_settles_it()
    {
        var inbox = Render<DriftInbox>();
        inbox.WaitForAssertion(() => Assert.Contains("Hosts and portal agree.", inbox.Markup, StringComparison.Ordinal));
        await (await DemoHostAsync()).CreateAsync(new DomainSpec(Guid.NewGuid(), "stray", 1, 512, 1, "none"), Ct);

        await Services.GetRequiredService<Reconciler>().RunAsync(Ct);

        inbox.WaitForAssertion(() => Assert.Single(inbox.FindAll("[data-testid=drift-stray]")));
        var tenantId = await Services.GetRequiredService<TenantService>().CreateAsync(admin, "Ops", null, TenantQuota.Default, Ct);
        var drift = Assert.Single(await Services.GetRequiredService<DriftService>().ListOpenAsync(admin, Ct));

        await Services.GetRequiredService<DriftService>().AdoptAsync(admin, drift.Id, tenantId, Ct);

        inbox.WaitForAssertion(() => Assert.Empty(inbox.FindAll("[data-testid=drift-stray]")));
    }

    private async Task<IHypervisor> DemoHostAsync()
    {
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        var demo = await db.Hosts.AsNoTracking().SingleAsync(Ct);
        return Services.GetRequiredService<HypervisorRegistry>().For(demo);
    }
}
