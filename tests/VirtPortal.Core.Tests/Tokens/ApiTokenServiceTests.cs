using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Access;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Common;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Tokens;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Tests.Tokens;

/// <summary>Personal API tokens: shown once, kept as a hash, limited in life and scope, and refused once expired or revoked.</summary>
public sealed class ApiTokenServiceTests : PortalTestBase
{
    private ApiTokenService Tokens => Host.Services.GetRequiredService<ApiTokenService>();

    private DateTimeOffset Now => Host.Time.GetUtcNow();

    [Fact]
    public async Task A_token_is_kept_only_as_the_hash_of_its_secret_and_its_making_is_audited_without_it()
    {
        var user = await Host.CreateUserAsync("ada@test.local");

        var made = await Tokens.CreateAsync(user, new ApiTokenDraft("ci", Now.AddDays(30)), Ct);

        Assert.StartsWith(ApiTokenService.Prefix, made.Secret, StringComparison.Ordinal);
        Assert.Equal(ApiTokenService.Prefix.Length + 43, made.Secret.Length);
        await using var db = Host.NewDb();
        var stored = await db.ApiTokens.AsNoTracking().SingleAsync(Ct);
        Assert.Equal(ApiTokenService.Hash(made.Secret), stored.SecretHash);
        Assert.DoesNotContain(made.Secret, stored.SecretHash + stored.Hint + stored.Name, StringComparison.Ordinal);
        var audit = Assert.Single(await Host.AuditAsync(AuditActions.TokenCreated));
        Assert.Equal(user.UserId, audit.ActorId);
        Assert.DoesNotContain(made.Secret, audit.Target + audit.Details, StringComparison.Ordinal);
        var check = await Tokens.CheckAsync(made.Secret, Ct);
        Assert.Equal((user.UserId, new TokenScope(made.Token.Id, null, false)), (check.UserId, check.Scope));
    }

    [Theory]
    [InlineData(0, "Choose an expiry in the future.")]
    [InlineData(366, "A token lives at most 365 days.")]
    public async Task An_expiry_outside_now_and_the_maximum_is_refused_on_its_field(int days, string message)
    {
        var user = await Host.CreateUserAsync("ada@test.local");

        var refused = await Assert.ThrowsAsync<PortalValidationException>(() => Tokens.CreateAsync(user, new ApiTokenDraft("ci", Now.AddDays(days)), Ct));

        Assert.Equal(message, refused.For(nameof(ApiTokenDraft.ExpiresAt)));
    }

    [Fact]
    public async Task A_member_cannot_limit_a_token_to_a_tenant_they_do_not_see()
    {
        var member = await Host.CreateUserAsync("member@globex.test");
        await Host.CreateTenantAsync("Globex", (member, TenantRole.Member));
        var acme = await Host.CreateTenantAsync("Acme");

        var refused = await Assert.ThrowsAsync<PortalValidationException>(() =>
            Tokens.CreateAsync(member, new ApiTokenDraft("ci", Now.AddDays(7), acme), Ct));

        Assert.Equal("Choose a tenant you may see.", refused.For(nameof(ApiTokenDraft.TenantId)));
    }

    [Fact]
    public async Task A_token_is_refused_once_it_expires_or_is_revoked()
    {
        var user = await Host.CreateUserAsync("ada@test.local");
        var shortLived = await Tokens.CreateAsync(user, new ApiTokenDraft("short", Now.AddDays(1)), Ct);
        Host.Time.Advance(TimeSpan.FromSeconds(1)); // the list is newest first, by id (made of the time)
        var revoked = await Tokens.CreateAsync(user, new ApiTokenDraft("revoked", Now.AddDays(30)), Ct);

        await Tokens.RevokeAsync(user, revoked.Token.Id, Ct);
        Host.Time.Advance(TimeSpan.FromDays(1) - TimeSpan.FromSeconds(1));

        Assert.Equal(ApiTokenRefusal.Expired, (await Tokens.CheckAsync(shortLived.Secret, Ct)).Refusal);
        Assert.Equal(ApiTokenRefusal.Revoked, (await Tokens.CheckAsync(revoked.Secret, Ct)).Refusal);
        Assert.Equal(ApiTokenRefusal.Unknown, (await Tokens.CheckAsync(ApiTokenService.Prefix + new string('A', 43), Ct)).Refusal);
        Assert.Equal(ApiTokenRefusal.Malformed, (await Tokens.CheckAsync("Bearer something", Ct)).Refusal);
        Assert.Equal([ApiTokenState.Revoked, ApiTokenState.Expired], (await Tokens.ListAsync(user, Ct)).Select(t => t.State));
        Assert.False(await Tokens.IsActiveAsync(shortLived.Token.Id, Ct));
        Assert.Single(await Host.AuditAsync(AuditActions.TokenRevoked));
    }

    [Fact]
    public async Task Last_use_is_written_at_most_once_a_minute()
    {
        var user = await Host.CreateUserAsync("ada@test.local");
        var made = await Tokens.CreateAsync(user, new ApiTokenDraft("ci", Now.AddDays(30)), Ct);
        var first = Now;

        await Tokens.CheckAsync(made.Secret, Ct);
        Host.Time.Advance(TimeSpan.FromSeconds(30));
        await Tokens.CheckAsync(made.Secret, Ct);
        Assert.Equal(first, Assert.Single(await Tokens.ListAsync(user, Ct)).LastUsedAt);

        Host.Time.Advance(TimeSpan.FromSeconds(30));
        await Tokens.CheckAsync(made.Secret, Ct);
        Assert.Equal(Now, Assert.Single(await Tokens.ListAsync(user, Ct)).LastUsedAt);
    }

    [Fact]
    public async Task Nobody_lists_or_revokes_another_users_token()
    {
        var ada = await Host.CreateUserAsync("ada@test.local");
        var bob = await Host.CreateUserAsync("bob@test.local");
        var made = await Tokens.CreateAsync(ada, new ApiTokenDraft("ci", Now.AddDays(30)), Ct);

        await Assert.ThrowsAsync<PortalNotFoundException>(() => Tokens.RevokeAsync(bob, made.Token.Id, Ct));

        Assert.Empty(await Tokens.ListAsync(bob, Ct));
        Assert.True(await Tokens.IsActiveAsync(made.Token.Id, Ct));
    }

    [Fact]
    public async Task A_token_makes_no_token_that_reaches_further_or_lives_longer_than_itself()
    {
        var owner = await Host.CreateUserAsync("owner@acme.test");
        var acme = await Host.CreateTenantAsync("Acme", (owner, TenantRole.Owner));
        await Host.CreateTenantAsync("Globex", (owner, TenantRole.Owner));
        var parent = await Tokens.CreateAsync(owner, new ApiTokenDraft("parent", Now.AddDays(10), acme), Ct);
        var throughParent = owner with { Token = new TokenScope(parent.Token.Id, acme, false) };
        var readOnly = await Tokens.CreateAsync(owner, new ApiTokenDraft("reader", Now.AddDays(10), null, ReadOnly: true), Ct);

        var wider = await Assert.ThrowsAsync<PortalValidationException>(() => Tokens.CreateAsync(throughParent, new ApiTokenDraft("child", Now.AddDays(5)), Ct));
        var longer = await Assert.ThrowsAsync<PortalValidationException>(() => Tokens.CreateAsync(throughParent, new ApiTokenDraft("child", Now.AddDays(11), acme), Ct));
        var reading = await Assert.ThrowsAsync<PortalAccessDeniedException>(() =>
            Tokens.CreateAsync(owner with { Token = new TokenScope(readOnly.Token.Id, null, true) }, new ApiTokenDraft("child", Now.AddDays(5)), Ct));
        var child = await Tokens.CreateAsync(throughParent, new ApiTokenDraft("child", Now.AddDays(5), acme), Ct);

        Assert.NotNull(wider.For(nameof(ApiTokenDraft.TenantId)));
        Assert.Equal("A token cannot outlive the token that makes it.", longer.For(nameof(ApiTokenDraft.ExpiresAt)));
        Assert.Equal(AccessRules.ReadOnlyTokenReason, reading.Message);
        Assert.Equal(acme, child.Token.TenantId);
    }

    [Fact]
    public async Task A_helpdesk_token_limited_to_a_tenant_reaches_that_tenant_alone()
    {
        var helpdesk = await Host.CreateUserAsync("helpdesk@test.local", GlobalRoles.Helpdesk);
        var acme = await Host.CreateTenantAsync("Acme");
        await Host.CreateTenantAsync("Globex");
        var access = Host.Services.GetRequiredService<PortalAccess>();
        var token = helpdesk with { Token = new TokenScope(Guid.CreateVersion7(), acme, true) };

        var scope = await access.ScopeAsync(token, Permission.ResourceView, Ct);
        var tenants = await Host.Tenants.ListVisibleAsync(token, includeArchived: false, Ct);

        Assert.False(scope.All);
        Assert.Equal([acme], scope.TenantIds);
        Assert.Equal(["Acme"], tenants.Select(t => t.Name));
        Assert.True((await access.ScopeAsync(helpdesk, Permission.ResourceView, Ct)).All);
    }
}
