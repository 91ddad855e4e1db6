using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Common;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Tests.Tenancy;

public sealed class TenantServiceTests : PortalTestBase
{
    [Fact]
    public async Task Admin_creates_a_tenant_and_the_audit_entry_names_the_admin()
    {
        var admin = await Host.AdminAsync();

        var id = await Host.Tenants.CreateAsync(admin, "  Acme Research ", "Lab", TenantQuota.Default, Ct);

        await using var db = Host.NewDb();
        var tenant = await db.Tenants.SingleAsync(Ct);
        Assert.Equal((id, "Acme Research"), (tenant.Id, tenant.Name));
        var entry = Assert.Single(await Host.AuditAsync(AuditActions.TenantCreated));
        Assert.Equal((admin.UserId, admin.Name, (Guid?)id), (entry.ActorId, entry.ActorName, entry.TenantId));
    }

    [Theory]
    [InlineData(GlobalRoles.Approver)]
    [InlineData(GlobalRoles.Helpdesk)]
    [InlineData(null)]
    public async Task Non_admin_cannot_create_a_tenant_and_the_denial_is_audited(string? role)
    {
        var user = role is null ? await Host.CreateUserAsync("user@test.local") : await Host.CreateUserAsync("user@test.local", role);

        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Host.Tenants.CreateAsync(user, "Acme", null, TenantQuota.Default, Ct));

        await using var db = Host.NewDb();
        Assert.Equal(0, await db.Tenants.CountAsync(Ct));
        var denial = Assert.Single(await Host.AuditAsync(AuditActions.AccessDenied));
        Assert.Equal(user.UserId, denial.ActorId);
    }

    [Fact]
    public async Task Tenant_name_differing_only_by_case_is_refused_and_nothing_is_written()
    {
        var admin = await Host.AdminAsync();
        await Host.Tenants.CreateAsync(admin, "Acme", null, TenantQuota.Default, Ct);

        var error = await Assert.ThrowsAsync<PortalValidationException>(() => Host.Tenants.CreateAsync(admin, "ACME", null, TenantQuota.Default, Ct));

        Assert.NotNull(error.For("Name"));
        await using var db = Host.NewDb();
        Assert.Equal(1, await db.Tenants.CountAsync(Ct));
        Assert.Single(await Host.AuditAsync(AuditActions.TenantCreated));
    }

    [Fact]
    public async Task Renaming_a_tenant_is_audited_with_old_and_new_name()
    {
        var admin = await Host.AdminAsync();
        var id = await Host.Tenants.CreateAsync(admin, "Acme", null, TenantQuota.Default, Ct);

        await Host.Tenants.UpdateAsync(admin, id, "Acme Research", null, TenantQuota.Default, Ct);

        var entry = Assert.Single(await Host.AuditAsync(AuditActions.TenantRenamed));
        Assert.Equal((admin.UserId, "from \"Acme\" to \"Acme Research\""), (entry.ActorId, entry.Details));
        Assert.Empty(await Host.AuditAsync(AuditActions.QuotaChanged));
    }

    [Fact]
    public async Task Changing_the_quota_is_audited_and_stored()
    {
        var admin = await Host.AdminAsync();
        var id = await Host.Tenants.CreateAsync(admin, "Acme", null, TenantQuota.Default, Ct);
        var bigger = TenantQuota.Default with { VCpus = 64 };

        await Host.Tenants.UpdateAsync(admin, id, "Acme", null, bigger, Ct);

        var entry = Assert.Single(await Host.AuditAsync(AuditActions.QuotaChanged));
        Assert.Equal(admin.UserId, entry.ActorId);
        Assert.Equal(bigger, (await Host.Tenants.GetAsync(admin, id, Ct)).Tenant.Quota);
        Assert.Empty(await Host.AuditAsync(AuditActions.TenantRenamed));
    }

    [Fact]
    public async Task Archived_tenant_leaves_a_members_list()
    {
        var member = await Host.CreateUserAsync("member@test.local");
        var id = await Host.CreateTenantAsync("Acme", (member, TenantRole.Member));

        await Host.Tenants.SetArchivedAsync(await Host.AdminAsync(), id, archived: true, Ct);

        Assert.Empty(await Host.Tenants.ListVisibleAsync(member, includeArchived: true, Ct));
    }

    [Fact]
    public async Task Member_cannot_open_an_archived_tenant()
    {
        var member = await Host.CreateUserAsync("member@test.local");
        var id = await Host.CreateTenantAsync("Acme", (member, TenantRole.Member));
        await Host.Tenants.SetArchivedAsync(await Host.AdminAsync(), id, archived: true, Ct);

        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Host.Tenants.GetAsync(member, id, Ct));
    }

    [Fact]
    public async Task Staff_still_see_an_archived_tenant()
    {
        var helpdesk = await Host.CreateUserAsync("helpdesk@test.local", GlobalRoles.Helpdesk);
        var id = await Host.CreateTenantAsync("Acme");
        await Host.Tenants.SetArchivedAsync(await Host.AdminAsync(), id, archived: true, Ct);

        var listed = Assert.Single(await Host.Tenants.ListVisibleAsync(helpdesk, includeArchived: true, Ct));
        var details = await Host.Tenants.GetAsync(helpdesk, id, Ct);

        Assert.Equal((id, true), (listed.Id, listed.IsArchived));
        Assert.True(details.Tenant.IsArchived);
    }

    [Fact]
    public async Task Owner_adds_a_member_by_email()
    {
        var owner = await Host.CreateUserAsync("owner@test.local");
        var newcomer = await Host.CreateUserAsync("newcomer@test.local");
        var id = await Host.CreateTenantAsync("Acme", (owner, TenantRole.Owner));

        await Host.Tenants.AddMemberAsync(owner, id, " NEWCOMER@test.local ", TenantRole.Member, Ct);

        var details = await Host.Tenants.GetAsync(owner, id, Ct);
        Assert.Contains(details.Members, m => m.UserId == newcomer.UserId && m.Role == TenantRole.Member);
        var entry = Assert.Single(await Host.AuditAsync(AuditActions.MemberAdded), e => e.ActorId == owner.UserId);
        Assert.Equal(id, entry.TenantId);
    }

    [Fact]
    public async Task Adding_an_unknown_email_is_an_error_on_Email()
    {
        var owner = await Host.CreateUserAsync("owner@test.local");
        var id = await Host.CreateTenantAsync("Acme", (owner, TenantRole.Owner));

        var error = await Assert.ThrowsAsync<PortalValidationException>(() =>
            Host.Tenants.AddMemberAsync(owner, id, "nobody@test.local", TenantRole.Member, Ct));

        Assert.NotNull(error.For("Email"));
    }

    [Fact]
    public async Task Adding_someone_who_is_already_a_member_is_an_error_on_Email()
    {
        var owner = await Host.CreateUserAsync("owner@test.local");
        var member = await Host.CreateUserAsync("member@test.local");
        var id = await Host.CreateTenantAsync("Acme", (owner, TenantRole.Owner), (member, TenantRole.Member));

        var error = await Assert.ThrowsAsync<PortalValidationException>(() =>
            Host.Tenants.AddMemberAsync(owner, id, member.Name, TenantRole.Owner, Ct));

        Assert.NotNull(error.For("Email"));
    }

    [Fact]
    public async Task Member_cannot_manage_members_of_their_tenant()
    {
        var member = await Host.CreateUserAsync("member@test.local");
        await Host.CreateUserAsync("friend@test.local");
        var id = await Host.CreateTenantAsync("Acme", (member, TenantRole.Member));

        await Assert.ThrowsAsync<PortalAccessDeniedException>(() =>
            Host.Tenants.AddMemberAsync(member, id, "friend@test.local", TenantRole.Member, Ct));

        Assert.Equal(1, (await Host.Tenants.GetAsync(member, id, Ct)).Tenant.MemberCount);
        Assert.Single(await Host.AuditAsync(AuditActions.AccessDenied), e => e.ActorId == member.UserId);
    }

    [Fact]
    public async Task Owner_cannot_remove_the_last_owner()
    {
        var owner = await Host.CreateUserAsync("owner@test.local");
        var id = await Host.CreateTenantAsync("Acme", (owner, TenantRole.Owner));

        await Assert.ThrowsAsync<PortalValidationException>(() => Host.Tenants.RemoveMemberAsync(owner, id, owner.UserId, Ct));

        Assert.Equal(TenantRole.Owner, (await Host.Tenants.GetAsync(owner, id, Ct)).Tenant.MyRole);
    }

    [Fact]
    public async Task Owner_cannot_demote_the_last_owner()
    {
        var owner = await Host.CreateUserAsync("owner@test.local");
        var id = await Host.CreateTenantAsync("Acme", (owner, TenantRole.Owner));

        await Assert.ThrowsAsync<PortalValidationException>(() =>
            Host.Tenants.ChangeMemberRoleAsync(owner, id, owner.UserId, TenantRole.Member, Ct));

        Assert.Equal(TenantRole.Owner, (await Host.Tenants.GetAsync(owner, id, Ct)).Tenant.MyRole);
    }

    [Fact]
    public async Task Owner_can_step_down_when_another_owner_remains()
    {
        var owner = await Host.CreateUserAsync("owner@test.local");
        var other = await Host.CreateUserAsync("other@test.local");
        var id = await Host.CreateTenantAsync("Acme", (owner, TenantRole.Owner), (other, TenantRole.Owner));

        await Host.Tenants.ChangeMemberRoleAsync(owner, id, owner.UserId, TenantRole.Member, Ct);

        Assert.Equal(TenantRole.Member, (await Host.Tenants.GetAsync(owner, id, Ct)).Tenant.MyRole);
    }

    [Fact]
    public async Task Admin_can_remove_the_last_owner()
    {
        var owner = await Host.CreateUserAsync("owner@test.local");
        var id = await Host.CreateTenantAsync("Acme", (owner, TenantRole.Owner));
        var admin = await Host.AdminAsync();

        await Host.Tenants.RemoveMemberAsync(admin, id, owner.UserId, Ct);

        Assert.Empty((await Host.Tenants.GetAsync(admin, id, Ct)).Members);
    }

    [Fact]
    public async Task Admin_can_demote_the_last_owner()
    {
        var owner = await Host.CreateUserAsync("owner@test.local");
        var id = await Host.CreateTenantAsync("Acme", (owner, TenantRole.Owner));
        var admin = await Host.AdminAsync();

        await Host.Tenants.ChangeMemberRoleAsync(admin, id, owner.UserId, TenantRole.Member, Ct);

        Assert.Equal(TenantRole.Member, Assert.Single((await Host.Tenants.GetAsync(admin, id, Ct)).Members).Role);
    }

    [Fact]
    public async Task Removing_a_member_clears_their_current_tenant()
    {
        var member = await Host.CreateUserAsync("member@test.local");
        var id = await Host.CreateTenantAsync("Acme", (member, TenantRole.Member));
        Assert.Equal(id, (await Host.FindUserAsync(member.UserId)).CurrentTenantId);

        await Host.Tenants.RemoveMemberAsync(await Host.AdminAsync(), id, member.UserId, Ct);

        Assert.Null((await Host.FindUserAsync(member.UserId)).CurrentTenantId);
    }

    [Fact]
    public async Task Member_sees_only_their_own_tenants()
    {
        var member = await Host.CreateUserAsync("member@test.local");
        var mine = await Host.CreateTenantAsync("Acme", (member, TenantRole.Member));
        await Host.CreateTenantAsync("Globex");

        var visible = await Host.Tenants.ListVisibleAsync(member, includeArchived: false, Ct);

        var only = Assert.Single(visible);
        Assert.Equal((mine, (TenantRole?)TenantRole.Member), (only.Id, only.MyRole));
    }

    [Fact]
    public async Task Switching_to_a_tenant_the_user_is_not_in_is_refused()
    {
        var member = await Host.CreateUserAsync("member@test.local");
        var mine = await Host.CreateTenantAsync("Acme", (member, TenantRole.Member));
        var other = await Host.CreateTenantAsync("Globex");

        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Host.Tenants.SwitchCurrentTenantAsync(member, other, Ct));

        Assert.Equal(mine, (await Host.FindUserAsync(member.UserId)).CurrentTenantId);
    }

    [Fact]
    public async Task Switching_to_one_of_the_users_tenants_is_remembered()
    {
        var member = await Host.CreateUserAsync("member@test.local");
        await Host.CreateTenantAsync("Acme", (member, TenantRole.Member));
        var second = await Host.CreateTenantAsync("Globex", (member, TenantRole.Member));

        await Host.Tenants.SwitchCurrentTenantAsync(member, second, Ct);

        Assert.Equal(second, (await Host.FindUserAsync(member.UserId)).CurrentTenantId);
    }
}
