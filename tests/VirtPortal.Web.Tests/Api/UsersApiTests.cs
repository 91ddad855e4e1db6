using System.Net;
using VirtPortal.Core.Tenancy;

namespace VirtPortal.Web.Tests.Api;

/// <summary>Accounts through the API: admins create them (with a one-time link), set their roles, lock and unlock them.</summary>
public sealed class UsersApiTests(ApiPortal portal) : IClassFixture<ApiPortal>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_admin_creates_an_account_in_a_tenant_and_gets_its_set_password_link_once()
    {
        using var admin = await portal.ClientAsync(ApiPortal.Admin);
        var email = $"{Guid.NewGuid():N}@api.test";
        var acme = await portal.AcmeAsync();

        using var created = await admin.PostAsync("/api/v1/users", new { email, displayName = "New Person", roles = Array.Empty<string>(), tenantId = acme, tenantRole = "Member" });

        var body = await created.ExpectAsync(HttpStatusCode.Created);
        var id = body.GetProperty("user").GetProperty("user").GetProperty("id").GetString();
        Assert.Equal($"/api/v1/users/{id}", created.Headers.Location?.OriginalString);
        Assert.StartsWith($"http://localhost/Account/SetPassword?user={id}&code=", body.GetProperty("invite").GetProperty("inviteLink").GetString(), StringComparison.Ordinal);
        Assert.False(body.GetProperty("invite").GetProperty("mailed").GetBoolean());
        Assert.Equal(acme, Assert.Single(body.GetProperty("user").GetProperty("memberships").EnumerateArray()).GetProperty("tenantId").GetGuid());
        using var search = await admin.GetAsync($"/api/v1/users?search={email[..10]}", Ct);
        Assert.Equal([id], (await search.ExpectAsync(HttpStatusCode.OK)).Items().Select(u => u.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task A_bad_email_an_unknown_role_and_an_archived_tenant_are_refused_on_their_fields()
    {
        using var admin = await portal.ClientAsync(ApiPortal.Admin);

        using var response = await admin.PostAsync("/api/v1/users", new { email = "not-an-email", roles = new List<string> { "Root" }, tenantId = Guid.NewGuid() });
        using var taken = await admin.PostAsync("/api/v1/users", new { email = ApiPortal.Member, roles = Array.Empty<string>() });

        var problem = await response.ExpectAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(["\"not-an-email\" is not a valid email address."], problem.FieldErrors("email"));
        Assert.Equal(["\"Root\" is not a role. Roles are Admin, Approver, Helpdesk."], problem.FieldErrors("roles"));
        Assert.Equal(["Choose an active tenant."], problem.FieldErrors("tenantId"));
        Assert.Equal([$"A user with the email {ApiPortal.Member} already exists."], (await taken.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors("email"));
    }

    [Fact]
    public async Task A_locked_accounts_token_is_refused_until_it_is_unlocked()
    {
        using var admin = await portal.ClientAsync(ApiPortal.Admin);
        var user = await portal.UserAsync((await portal.AcmeAsync(), TenantRole.Member));
        using var client = portal.Client((await portal.TokenAsync(user)).Secret);

        using var locked = await admin.PostAsync($"/api/v1/users/{user.UserId}/lock");
        Assert.True((await locked.ExpectAsync(HttpStatusCode.OK)).GetProperty("user").GetProperty("isLocked").GetBoolean());
        using var refused = await client.GetAsync("/api/v1/resources", Ct);
        Assert.Equal("This API token's user is locked out.", (await refused.ExpectAsync(HttpStatusCode.Unauthorized)).Detail());
        using var unlocked = await admin.PostAsync($"/api/v1/users/{user.UserId}/unlock");
        Assert.False((await unlocked.ExpectAsync(HttpStatusCode.OK)).GetProperty("user").GetProperty("isLocked").GetBoolean());
        using var again = await client.GetAsync("/api/v1/resources", Ct);

        await again.ExpectAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Roles_are_set_as_a_whole_and_an_unknown_one_changes_nothing()
    {
        using var admin = await portal.ClientAsync(ApiPortal.Admin);
        var user = await portal.UserAsync();

        using var set = await admin.SendAsync(HttpMethod.Put, $"/api/v1/users/{user.UserId}/roles", new { roles = new List<string> { "Approver", "Helpdesk" } });
        using var bad = await admin.SendAsync(HttpMethod.Put, $"/api/v1/users/{user.UserId}/roles", new { roles = new List<string> { "Approver", "Boss" } });
        using var read = await admin.GetAsync($"/api/v1/users/{user.UserId}", Ct);
        using var unknown = await admin.GetAsync($"/api/v1/users/{Guid.NewGuid()}", Ct);

        Assert.Equal(["Approver", "Helpdesk"], (await set.ExpectAsync(HttpStatusCode.OK)).GetProperty("user").GetProperty("roles").EnumerateArray().Select(r => r.GetString()).Order());
        Assert.Equal(["\"Boss\" is not a role."], (await bad.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors("roles"));
        Assert.Equal(["Approver", "Helpdesk"], (await read.ExpectAsync(HttpStatusCode.OK)).GetProperty("user").GetProperty("roles").EnumerateArray().Select(r => r.GetString()).Order());
        Assert.Equal("That user does not exist.", (await unknown.ExpectAsync(HttpStatusCode.NotFound)).Detail());
    }

    [Fact]
    public async Task A_new_invite_link_is_made_for_an_admin_and_nobody_else_sees_the_accounts()
    {
        using var admin = await portal.ClientAsync(ApiPortal.Admin);
        using var owner = await portal.ClientAsync(ApiPortal.Owner);
        var user = await portal.UserAsync();

        using var invite = await admin.PostAsync($"/api/v1/users/{user.UserId}/invite");
        using var list = await owner.GetAsync("/api/v1/users", Ct);
        using var lockIt = await owner.PostAsync($"/api/v1/users/{user.UserId}/lock");

        Assert.Contains($"user={user.UserId}&code=", (await invite.ExpectAsync(HttpStatusCode.OK)).GetProperty("inviteLink").GetString(), StringComparison.Ordinal);
        Assert.Equal("This user does not exist or you may not see it.", (await list.ExpectAsync(HttpStatusCode.NotFound)).Detail());
        await lockIt.ExpectAsync(HttpStatusCode.NotFound);
        using var read = await admin.GetAsync($"/api/v1/users/{user.UserId}", Ct);
        Assert.False((await read.ExpectAsync(HttpStatusCode.OK)).GetProperty("user").GetProperty("isLocked").GetBoolean());
    }
}
