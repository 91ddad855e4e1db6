using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Common;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Tests.Users;

public sealed class UserAdministrationTests : PortalTestBase
{
    private const string NewPassword = "a-long-enough-passphrase";

    [Fact]
    public async Task Invite_token_lets_the_user_set_a_password()
    {
        var created = await Host.Users.CreateAsync(await Host.AdminAsync(), new NewUser("ada@test.local", "Ada", []), Ct);

        var errors = await Host.Users.CompleteInviteAsync(created.UserId, created.InviteToken!, NewPassword, Ct);

        Assert.Empty(errors);
        var user = await Host.FindUserAsync(created.UserId);
        Assert.True(await Host.WithUserManagerAsync(users => users.CheckPasswordAsync(user, NewPassword)));
    }

    [Fact]
    public async Task Invite_token_works_only_once()
    {
        var created = await Host.Users.CreateAsync(await Host.AdminAsync(), new NewUser("ada@test.local", "Ada", []), Ct);
        await Host.Users.CompleteInviteAsync(created.UserId, created.InviteToken!, NewPassword, Ct);

        var errors = await Host.Users.CompleteInviteAsync(created.UserId, created.InviteToken!, "another-long-passphrase", Ct);

        Assert.Equal(["This link has expired or was already used. Ask an admin for a new one."], errors);
    }

    [Fact]
    public async Task User_created_with_a_password_gets_no_invite_token_and_can_sign_in()
    {
        var created = await Host.Users.CreateAsync(await Host.AdminAsync(), new NewUser("ada@test.local", "Ada", [], Password: NewPassword), Ct);

        var user = await Host.FindUserAsync(created.UserId);

        Assert.Null(created.InviteToken);
        Assert.True(await Host.WithUserManagerAsync(users => users.CheckPasswordAsync(user, NewPassword)));
    }

    [Fact]
    public async Task Too_short_password_is_an_error_on_Password_and_no_user_is_created()
    {
        var admin = await Host.AdminAsync();

        var error = await Assert.ThrowsAsync<PortalValidationException>(() =>
            Host.Users.CreateAsync(admin, new NewUser("ada@test.local", "Ada", [], Password: "short"), Ct));

        Assert.NotNull(error.For(nameof(NewUser.Password)));
        Assert.False(await UserExistsAsync("ada@test.local"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-an-email")]
    [InlineData("ada@")]
    public async Task Invalid_email_is_an_error_on_Email(string email)
    {
        var admin = await Host.AdminAsync();

        var error = await Assert.ThrowsAsync<PortalValidationException>(() => Host.Users.CreateAsync(admin, new NewUser(email, "Ada", []), Ct));

        Assert.NotNull(error.For(nameof(NewUser.Email)));
    }

    [Fact]
    public async Task Email_already_in_use_in_any_case_is_an_error_on_Email()
    {
        var admin = await Host.AdminAsync();
        await Host.Users.CreateAsync(admin, new NewUser("ada@test.local", "Ada", []), Ct);

        var error = await Assert.ThrowsAsync<PortalValidationException>(() =>
            Host.Users.CreateAsync(admin, new NewUser("ADA@Test.Local", "Ada again", []), Ct));

        Assert.NotNull(error.For(nameof(NewUser.Email)));
        await using var db = Host.NewDb();
        Assert.Equal(1, await db.Users.CountAsync(u => u.NormalizedEmail == "ADA@TEST.LOCAL", Ct));
    }

    [Fact]
    public async Task Unknown_role_is_refused_and_no_user_is_created()
    {
        var admin = await Host.AdminAsync();

        var error = await Assert.ThrowsAsync<PortalValidationException>(() =>
            Host.Users.CreateAsync(admin, new NewUser("ada@test.local", "Ada", ["Superuser"]), Ct));

        Assert.NotNull(error.For(nameof(NewUser.Roles)));
        Assert.False(await UserExistsAsync("ada@test.local"));
    }

    [Fact]
    public async Task Creating_a_user_with_a_tenant_makes_them_a_member_in_the_same_call()
    {
        var admin = await Host.AdminAsync();
        var tenantId = await Host.CreateTenantAsync("Acme");

        var created = await Host.Users.CreateAsync(admin, new NewUser("ada@test.local", "Ada", [], tenantId, TenantRole.Owner), Ct);

        var membership = Assert.Single((await Host.Users.GetAsync(admin, created.UserId, Ct)).Memberships);
        Assert.Equal((tenantId, TenantRole.Owner), (membership.TenantId, membership.Role));
        Assert.Equal(tenantId, (await Host.FindUserAsync(created.UserId)).CurrentTenantId);
    }

    [Fact]
    public async Task Unknown_tenant_is_an_error_and_leaves_no_user_behind()
    {
        var admin = await Host.AdminAsync();

        var error = await Assert.ThrowsAsync<PortalValidationException>(() =>
            Host.Users.CreateAsync(admin, new NewUser("ada@test.local", "Ada", [], Guid.NewGuid()), Ct));

        Assert.NotNull(error.For(nameof(NewUser.TenantId)));
        Assert.False(await UserExistsAsync("ada@test.local"));
    }

    [Fact]
    public async Task Failure_after_the_user_row_was_written_rolls_everything_back()
    {
        var admin = await Host.AdminAsync();
        var tenantId = await Host.CreateTenantAsync("Acme");
        // Input validation only knows role names; a role missing from the store fails once the user row is written.
        await using (var db = Host.NewDb())
            await db.Roles.Where(r => r.Name == GlobalRoles.Approver).ExecuteDeleteAsync(Ct);

        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            Host.Users.CreateAsync(admin, new NewUser("ada@test.local", "Ada", [GlobalRoles.Approver], tenantId), Ct));

        Assert.False(await UserExistsAsync("ada@test.local"));
        await using var after = Host.NewDb();
        Assert.Equal(0, await after.TenantMemberships.CountAsync(Ct));
        Assert.Empty(await Host.AuditAsync(AuditActions.UserCreated));
    }

    [Fact]
    public async Task Changing_roles_changes_the_security_stamp()
    {
        var user = await Host.CreateUserAsync("ada@test.local");
        var before = (await Host.FindUserAsync(user.UserId)).SecurityStamp;

        await Host.Users.SetRolesAsync(await Host.AdminAsync(), user.UserId, [GlobalRoles.Approver], Ct);

        Assert.NotEqual(before, (await Host.FindUserAsync(user.UserId)).SecurityStamp);
        Assert.Equal([GlobalRoles.Approver], (await Host.Users.GetAsync(await Host.AdminAsync(), user.UserId, Ct)).User.Roles);
    }

    [Fact]
    public async Task Admin_cannot_remove_their_own_Admin_role()
    {
        var admin = await Host.AdminAsync();
        await Host.CreateUserAsync("second-admin@test.local", GlobalRoles.Admin);

        var error = await Assert.ThrowsAsync<PortalValidationException>(() => Host.Users.SetRolesAsync(admin, admin.UserId, [], Ct));

        Assert.NotNull(error.For("Roles"));
        Assert.Equal([GlobalRoles.Admin], (await Host.Users.GetAsync(admin, admin.UserId, Ct)).User.Roles);
    }

    [Fact]
    public async Task Admin_role_of_the_last_active_admin_cannot_be_removed()
    {
        var admin = await Host.AdminAsync();

        await Assert.ThrowsAsync<PortalValidationException>(() => Host.Users.SetRolesAsync(Actor.System, admin.UserId, [], Ct));

        Assert.Equal([GlobalRoles.Admin], (await Host.Users.GetAsync(admin, admin.UserId, Ct)).User.Roles);
    }

    [Fact]
    public async Task Last_active_admin_cannot_be_locked()
    {
        var admin = await Host.AdminAsync();
        var other = await Host.CreateUserAsync("second-admin@test.local", GlobalRoles.Admin);
        await Host.Users.SetLockedAsync(admin, other.UserId, locked: true, Ct);

        await Assert.ThrowsAsync<PortalValidationException>(() => Host.Users.SetLockedAsync(Actor.System, admin.UserId, locked: true, Ct));

        Assert.False(await IsLockedOutAsync(admin.UserId));
    }

    [Fact]
    public async Task Admin_cannot_lock_their_own_account()
    {
        var admin = await Host.AdminAsync();
        await Host.CreateUserAsync("second-admin@test.local", GlobalRoles.Admin);

        await Assert.ThrowsAsync<PortalValidationException>(() => Host.Users.SetLockedAsync(admin, admin.UserId, locked: true, Ct));

        Assert.False(await IsLockedOutAsync(admin.UserId));
    }

    [Fact]
    public async Task Locked_user_is_locked_out()
    {
        var user = await Host.CreateUserAsync("ada@test.local");

        await Host.Users.SetLockedAsync(await Host.AdminAsync(), user.UserId, locked: true, Ct);

        Assert.True(await IsLockedOutAsync(user.UserId));
        Assert.Single(await Host.AuditAsync(AuditActions.UserLocked));
    }

    [Fact]
    public async Task Locking_changes_the_security_stamp_so_open_sessions_end()
    {
        var user = await Host.CreateUserAsync("ada@test.local");
        var before = (await Host.FindUserAsync(user.UserId)).SecurityStamp;

        await Host.Users.SetLockedAsync(await Host.AdminAsync(), user.UserId, locked: true, Ct);

        Assert.NotEqual(before, (await Host.FindUserAsync(user.UserId)).SecurityStamp);
    }

    [Fact]
    public async Task Unlocking_lets_a_locked_user_in_again()
    {
        var admin = await Host.AdminAsync();
        var user = await Host.CreateUserAsync("ada@test.local");
        await Host.Users.SetLockedAsync(admin, user.UserId, locked: true, Ct);

        await Host.Users.SetLockedAsync(admin, user.UserId, locked: false, Ct);

        Assert.False(await IsLockedOutAsync(user.UserId));
        Assert.False((await Host.Users.GetAsync(admin, user.UserId, Ct)).User.IsLocked);
    }

    public static TheoryData<string> AdminOnlyOperations => ["list", "view", "create", "invite", "set roles", "lock", "unlock"];

    [Theory]
    [MemberData(nameof(AdminOnlyOperations))]
    public async Task Non_admin_callers_are_refused_and_audited(string operation)
    {
        var approver = await Host.CreateUserAsync("approver@test.local", GlobalRoles.Approver);
        var target = await Host.CreateUserAsync("target@test.local");
        var stampBefore = (await Host.FindUserAsync(target.UserId)).SecurityStamp;
        Func<Task> act = operation switch
        {
            "list" => () => Host.Users.ListAsync(approver, null, Ct),
            "view" => () => Host.Users.GetAsync(approver, target.UserId, Ct),
            "create" => () => Host.Users.CreateAsync(approver, new NewUser("ada@test.local", "Ada", [GlobalRoles.Admin]), Ct),
            "invite" => () => Host.Users.IssueInviteAsync(approver, target.UserId, Ct),
            "set roles" => () => Host.Users.SetRolesAsync(approver, target.UserId, [GlobalRoles.Admin], Ct),
            "lock" => () => Host.Users.SetLockedAsync(approver, target.UserId, locked: true, Ct),
            _ => () => Host.Users.SetLockedAsync(approver, target.UserId, locked: false, Ct),
        };

        await Assert.ThrowsAsync<PortalAccessDeniedException>(act);

        var denial = Assert.Single(await Host.AuditAsync(AuditActions.AccessDenied));
        Assert.Equal(approver.UserId, denial.ActorId);
        Assert.False(await UserExistsAsync("ada@test.local"));
        Assert.Equal(stampBefore, (await Host.FindUserAsync(target.UserId)).SecurityStamp);
    }

    private async Task<bool> UserExistsAsync(string email)
    {
        await using var db = Host.NewDb();
        var normalized = email.ToUpperInvariant();
        return await db.Users.AnyAsync(u => u.NormalizedEmail == normalized, Ct);
    }

    private async Task<bool> IsLockedOutAsync(string userId)
    {
        var user = await Host.FindUserAsync(userId);
        return await Host.WithUserManagerAsync(users => users.IsLockedOutAsync(user));
    }
}
