using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Common;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Tests.Audit;

public sealed class AuditQueriesTests : PortalTestBase
{
    private AuditQueries Audit => Host.Services.GetRequiredService<AuditQueries>();

    [Theory]
    [InlineData(GlobalRoles.Admin)]
    [InlineData(GlobalRoles.Helpdesk)]
    public async Task Admin_and_helpdesk_see_every_entry(string role)
    {
        await ArrangeTenantsAsync();
        var staff = await Host.CreateUserAsync("staff@test.local", role);

        var page = await Audit.SearchAsync(staff, new AuditFilter(Take: AuditQueries.MaxTake), Ct);

        await using var db = Host.NewDb();
        Assert.Equal(await db.AuditEntries.CountAsync(Ct), page.Total);
        Assert.Equal(page.Total, page.Entries.Count);
        Assert.Contains(page.Entries, e => e.TenantId is null);
    }

    [Fact]
    public async Task An_owner_sees_the_entries_of_the_tenant_they_own_and_nothing_else()
    {
        var (owner, _, acme, _) = await ArrangeTenantsAsync();

        var page = await Audit.SearchAsync(owner, new AuditFilter(Take: AuditQueries.MaxTake), Ct);

        await using var db = Host.NewDb();
        Assert.Equal(await db.AuditEntries.CountAsync(e => e.TenantId == acme, Ct), page.Total);
        Assert.NotEmpty(page.Entries);
        Assert.All(page.Entries, e => Assert.Equal(acme, e.TenantId));
    }

    [Fact]
    public async Task An_owner_asking_for_a_tenant_they_only_belong_to_is_refused_and_audited()
    {
        var (owner, _, _, globex) = await ArrangeTenantsAsync();

        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Audit.SearchAsync(owner, new AuditFilter(TenantId: globex), Ct));

        var denial = Assert.Single(await Host.AuditAsync(AuditActions.AccessDenied));
        Assert.Equal((owner.UserId, $"audit log of tenant {globex}"), (denial.ActorId, denial.Target));
    }

    [Fact]
    public async Task A_member_who_owns_nothing_is_refused_and_the_denial_is_audited()
    {
        var (_, member, _, _) = await ArrangeTenantsAsync();

        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Audit.SearchAsync(member, new AuditFilter(), Ct));

        var denial = Assert.Single(await Host.AuditAsync(AuditActions.AccessDenied));
        Assert.Equal(member.UserId, denial.ActorId);
    }

    [Fact]
    public async Task An_approver_who_owns_no_tenant_is_refused()
    {
        var approver = await Host.CreateUserAsync("approver@test.local", GlobalRoles.Approver);

        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Audit.SearchAsync(approver, new AuditFilter(), Ct));

        Assert.False(await Audit.CanSearchAsync(approver, Ct));
    }

    [Fact]
    public async Task The_owner_of_an_archived_tenant_is_refused_its_history()
    {
        var (owner, _, acme, _) = await ArrangeTenantsAsync();
        await Host.Tenants.SetArchivedAsync(await Host.AdminAsync(), acme, archived: true, Ct);

        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Audit.SearchAsync(owner, new AuditFilter(), Ct));
    }

    [Fact]
    public async Task Only_owners_and_admin_or_helpdesk_may_search()
    {
        var (owner, member, _, _) = await ArrangeTenantsAsync();
        var helpdesk = await Host.CreateUserAsync("helpdesk@test.local", GlobalRoles.Helpdesk);

        Assert.Equal(
            (true, false, true),
            (await Audit.CanSearchAsync(owner, Ct), await Audit.CanSearchAsync(member, Ct), await Audit.CanSearchAsync(helpdesk, Ct)));
    }

    [Fact]
    public async Task The_tenant_choices_are_the_owned_tenants_for_an_owner_and_all_for_helpdesk()
    {
        var (owner, member, acme, globex) = await ArrangeTenantsAsync();
        var helpdesk = await Host.CreateUserAsync("helpdesk@test.local", GlobalRoles.Helpdesk);

        Assert.Equal([acme], (await Audit.ListTenantsAsync(owner, Ct)).Select(t => t.Id));
        Assert.Equal([acme, globex], (await Audit.ListTenantsAsync(helpdesk, Ct)).Select(t => t.Id));
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Audit.ListTenantsAsync(member, Ct));
    }

    [Fact]
    public async Task Filtering_by_actor_matches_part_of_the_name_ignoring_case()
    {
        var admin = await Host.AdminAsync();
        await SeedAsync(("alice@corp.test", "test.one"), ("bob@corp.test", "test.two"), ("alice@corp.test", "test.two"));

        var page = await Audit.SearchAsync(admin, new AuditFilter(Actor: " ALICE@"), Ct);

        Assert.Equal(2, page.Total);
        Assert.All(page.Entries, e => Assert.Equal("alice@corp.test", e.ActorName));
    }

    [Fact]
    public async Task The_actor_filter_treats_wildcards_literally()
    {
        var admin = await Host.AdminAsync();
        await SeedAsync(("alice@corp.test", "test.one"));

        var page = await Audit.SearchAsync(admin, new AuditFilter(Actor: "a_ice"), Ct);

        Assert.Equal(0, page.Total);
    }

    [Fact]
    public async Task Filtering_by_action_matches_that_action_only()
    {
        var admin = await Host.AdminAsync();
        await SeedAsync(("alice@corp.test", "test.one"), ("bob@corp.test", "test.two"), ("alice@corp.test", "test.two"));

        var page = await Audit.SearchAsync(admin, new AuditFilter(Action: "test.two"), Ct);

        Assert.Equal(["alice@corp.test", "bob@corp.test"], page.Entries.Select(e => e.ActorName));
    }

    [Fact]
    public async Task Filtering_by_time_includes_from_and_excludes_to()
    {
        var admin = await Host.AdminAsync();
        var start = Host.Time.GetUtcNow();
        // One entry per hour: start+1h, start+2h, start+3h.
        await SeedAsync(("first", "test.timed"), ("second", "test.timed"), ("third", "test.timed"));

        var page = await Audit.SearchAsync(admin, new AuditFilter(From: start.AddHours(2), To: start.AddHours(3)), Ct);

        Assert.Equal(["second"], page.Entries.Select(e => e.ActorName));
    }

    [Fact]
    public async Task Pages_are_newest_first_and_report_the_total()
    {
        var admin = await Host.AdminAsync();
        await SeedAsync(("e1", "test.paged"), ("e2", "test.paged"), ("e3", "test.paged"), ("e4", "test.paged"), ("e5", "test.paged"));

        var page = await Audit.SearchAsync(admin, new AuditFilter(Action: "test.paged", Skip: 1, Take: 2), Ct);

        Assert.Equal(5, page.Total);
        Assert.Equal(["e4", "e3"], page.Entries.Select(e => e.ActorName));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(AuditQueries.MaxTake + 1)]
    public async Task A_page_size_outside_1_to_200_is_refused(int take)
    {
        var admin = await Host.AdminAsync();

        await Assert.ThrowsAsync<PortalValidationException>(() => Audit.SearchAsync(admin, new AuditFilter(Take: take), Ct));
    }

    [Fact]
    public async Task The_action_choices_are_the_distinct_actions_in_the_log_in_order()
    {
        await SeedAsync(("a", "test.b"), ("b", "test.a"), ("c", "test.b"));

        var actions = await Audit.ListActionsAsync(await Host.AdminAsync(), Ct);

        Assert.Equal(actions.Order(StringComparer.Ordinal), actions);
        Assert.Equal(actions.Distinct(), actions);
        Assert.Contains("test.a", actions);
        Assert.Contains("test.b", actions);
    }

    /// <summary>
    /// Acme: owner (Owner), member (Member). Globex: another owner, and owner as a mere member.
    /// Creating them writes tenant and membership entries for each tenant and user entries for none.
    /// </summary>
    private async Task<(Actor Owner, Actor Member, Guid Acme, Guid Globex)> ArrangeTenantsAsync()
    {
        var owner = await Host.CreateUserAsync("owner@test.local");
        var member = await Host.CreateUserAsync("member@test.local");
        var globexOwner = await Host.CreateUserAsync("globex-owner@test.local");
        var acme = await Host.CreateTenantAsync("Acme", (owner, TenantRole.Owner), (member, TenantRole.Member));
        var globex = await Host.CreateTenantAsync("Globex", (globexOwner, TenantRole.Owner), (owner, TenantRole.Member));
        return (owner, member, acme, globex);
    }

    /// <summary>One portal-wide entry per (actor name, action), an hour apart on the fake clock.</summary>
    private async Task SeedAsync(params (string ActorName, string Action)[] entries)
    {
        await using var db = Host.NewDb();
        foreach (var (name, action) in entries)
        {
            Host.Time.Advance(TimeSpan.FromHours(1));
            db.Record(Host.Time, new Actor($"id-{name}", name, new HashSet<string>()), action, "test");
        }

        await db.SaveChangesAsync(Ct);
    }
}
