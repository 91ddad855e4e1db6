using System.Security.Claims;
using Bunit;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using VirtPortal.Core;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Bootstrap;
using VirtPortal.Core.Common;
using VirtPortal.Core.Data;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;
using AuditLogPage = VirtPortal.Web.Components.Pages.Audit.AuditLog;
using TestContext = Xunit.TestContext;

namespace VirtPortal.Web.Tests.Audit;

/// <summary>The audit log page against the real audit queries on a real SQLite file.</summary>
public sealed class AuditLogPageTests : PortalCoreComponentTest
{
    private Actor owner = Actor.System;
    private Actor member = Actor.System;
    private Guid acme;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        owner = await CreateUserAsync("owner@example.test");
        member = await CreateUserAsync("member@example.test");
        var tenants = Services.GetRequiredService<TenantService>();
        acme = await tenants.CreateAsync(Actor.System, "Acme", null, TenantQuota.Default, Ct);
        await tenants.AddMemberAsync(Actor.System, acme, owner.Name, TenantRole.Owner, Ct);
        var globex = await tenants.CreateAsync(Actor.System, "Globex", null, TenantQuota.Default, Ct);
        await tenants.AddMemberAsync(Actor.System, globex, member.Name, TenantRole.Owner, Ct);
    }

    [Fact]
    public async Task An_owner_sees_a_row_for_each_entry_of_their_tenant_and_none_of_others()
    {
        SignIn(owner);
        Render<MudPopoverProvider>();

        var page = Render<AuditLogPage>();

        var expected = await CountAsync(e => e.TenantId == acme);
        page.WaitForAssertion(() => Assert.Equal(expected, page.FindAll("[data-testid=audit-row]").Count));
        Assert.DoesNotContain("Globex", page.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public void A_user_who_owns_nothing_sees_access_denied_and_no_table()
    {
        SignIn(new Actor("nobody-id", "nobody@example.test", new HashSet<string>()));
        Render<MudPopoverProvider>();

        var page = Render<AuditLogPage>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=forbidden]")));
        Assert.Empty(page.FindAll("[data-testid=audit-log-table]"));
    }

    [Fact]
    public async Task Typing_an_actor_narrows_the_rows()
    {
        // One entry by someone other than "system": a refused look at the log.
        var nobody = new Actor("nobody-id", "nobody@example.test", new HashSet<string>());
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() =>
            Services.GetRequiredService<AuditQueries>().SearchAsync(nobody, new AuditFilter(), Ct));
        SignIn(new Actor("helpdesk-id", "helpdesk@example.test", new HashSet<string> { GlobalRoles.Helpdesk }), GlobalRoles.Helpdesk);
        Render<MudPopoverProvider>();
        var page = Render<AuditLogPage>();
        var all = await CountAsync(_ => true);
        page.WaitForAssertion(() => Assert.Equal(all, page.FindAll("[data-testid=audit-row]").Count));

        page.Find("[data-testid=audit-filter-actor]").Input("NOBODY@");

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=audit-row]")), TimeSpan.FromSeconds(5));
    }

    private async Task<Actor> CreateUserAsync(string email)
    {
        var created = await Services.GetRequiredService<UserAdministration>().CreateAsync(Actor.System, new NewUser(email, "", []), Ct);
        return new Actor(created.UserId, email, new HashSet<string>());
    }

    private async Task<int> CountAsync(System.Linq.Expressions.Expression<Func<AuditEntry, bool>> where)
    {
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        return await db.AuditEntries.CountAsync(where, Ct);
    }

    private void SignIn(Actor actor, params string[] roles) => SignIn(actor.UserId, actor.Name, roles);
}
