using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Data;
using VirtPortal.Web.Api;

namespace VirtPortal.Web.Tests.Api;

/// <summary><c>Idempotency-Key</c>: a repeated POST gets the first answer and does nothing twice; another body with the key is refused.</summary>
public sealed class IdempotencyTests(ApiPortal portal) : IClassFixture<ApiPortal>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Twenty_concurrent_repeats_of_a_keyed_request_create_exactly_one_and_all_get_its_answer()
    {
        using var client = await portal.ClientAsync(ApiPortal.Member);
        var acme = await portal.AcmeAsync();
        var draft = ApiEndpoints.QuotaDraft(acme) with { Justification = $"idempotency {Guid.NewGuid()}" };
        var key = new Dictionary<string, string> { [IdempotencyMiddleware.Header] = Guid.NewGuid().ToString() };
        using var start = new ManualResetEventSlim();

        var repeats = Enumerable.Range(0, 20).Select(_ => Task.Run(async () =>
        {
            start.Wait(Ct);
            using var response = await client.PostAsync("/api/v1/requests", draft, key);
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync(Ct), Location: response.Headers.Location?.OriginalString,
                Replayed: response.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        }, Ct)).ToList();
        start.Set();
        var answers = await Task.WhenAll(repeats);

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Created, a.StatusCode));
        Assert.Single(answers.Select(a => a.Body).Distinct());
        Assert.Single(answers.Select(a => a.Location).Distinct());
        Assert.Equal(19, answers.Count(a => a.Replayed));
        await using var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        Assert.Equal(1, await db.Requests.CountAsync(r => r.TenantId == acme && r.Justification == draft.Justification, Ct));
    }

    [Fact]
    public async Task A_key_repeated_with_another_body_is_refused_and_changes_nothing()
    {
        using var client = await portal.ClientAsync(ApiPortal.Member);
        var draft = ApiEndpoints.QuotaDraft(await portal.AcmeAsync()) with { Justification = $"first {Guid.NewGuid()}" };
        var key = new Dictionary<string, string> { [IdempotencyMiddleware.Header] = Guid.NewGuid().ToString() };

        using var first = await client.PostAsync("/api/v1/requests", draft, key);
        using var other = await client.PostAsync("/api/v1/requests", draft with { Justification = "another" }, key);
        using var elsewhere = await client.PostAsync("/api/v1/requests/preflight", draft, key);

        await first.ExpectAsync(HttpStatusCode.Created);
        Assert.StartsWith("This Idempotency-Key was used for another request", (await other.ExpectAsync(HttpStatusCode.UnprocessableEntity)).Detail(), StringComparison.Ordinal);
        await elsewhere.ExpectAsync(HttpStatusCode.UnprocessableEntity);
        await using var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        Assert.False(await db.Requests.AnyAsync(r => r.Justification == "another", Ct));
    }

    [Fact]
    public async Task A_refusal_is_kept_for_its_key_too_and_keys_of_different_users_never_meet()
    {
        var member = await portal.ClientAsync(ApiPortal.Member);
        using var owner = await portal.ClientAsync(ApiPortal.Owner);
        var key = new Dictionary<string, string> { [IdempotencyMiddleware.Header] = "shared-key-" + Guid.NewGuid() };
        var draft = ApiEndpoints.QuotaDraft(await portal.GlobexAsync());

        using var refused = await member.PostAsync("/api/v1/requests", draft, key);
        using var repeated = await member.PostAsync("/api/v1/requests", draft, key);
        using var ownersOwn = await owner.PostAsync("/api/v1/requests", draft, key);

        await refused.ExpectAsync(HttpStatusCode.NotFound);
        await repeated.ExpectAsync(HttpStatusCode.NotFound);
        Assert.True(repeated.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        await ownersOwn.ExpectAsync(HttpStatusCode.Created);
        member.Dispose();
    }

    [Fact]
    public async Task A_key_longer_than_255_characters_is_a_bad_request()
    {
        using var client = await portal.ClientAsync(ApiPortal.Member);

        using var response = await client.PostAsync("/api/v1/requests/preflight", ApiEndpoints.QuotaDraft(await portal.AcmeAsync()),
            new Dictionary<string, string> { [IdempotencyMiddleware.Header] = new string('k', 256) });

        Assert.Equal("Send one Idempotency-Key of 1 to 255 characters.", (await response.ExpectAsync(HttpStatusCode.BadRequest)).Detail());
    }

    [Fact]
    public async Task A_repeated_token_request_gets_the_same_token_once_and_its_secret_is_not_kept_in_clear()
    {
        using var client = await portal.ClientAsync(ApiPortal.Member);
        var name = $"idem-{Guid.NewGuid():N}"[..16];
        // Within the making token's own life, which it cannot outlive.
        var body = new { name, expiresAt = DateTimeOffset.UtcNow.AddMinutes(30) };
        var key = new Dictionary<string, string> { [IdempotencyMiddleware.Header] = Guid.NewGuid().ToString() };

        using var first = await client.PostAsync("/api/v1/tokens", body, key);
        using var repeat = await client.PostAsync("/api/v1/tokens", body, key);

        var secret = (await first.ExpectAsync(HttpStatusCode.Created)).GetProperty("secret").GetString()!;
        Assert.StartsWith("vpt_", secret, StringComparison.Ordinal);
        Assert.Equal(secret, (await repeat.ExpectAsync(HttpStatusCode.Created)).GetProperty("secret").GetString());
        Assert.True(repeat.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        await using var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        Assert.Equal(1, await db.ApiTokens.CountAsync(t => t.Name == name, Ct));
        var kept = await db.IdempotencyRecords.AsNoTracking().Where(r => r.Key == key[IdempotencyMiddleware.Header]).Select(r => r.Body).SingleAsync(Ct);
        Assert.NotNull(kept);
        Assert.DoesNotContain(secret, System.Text.Encoding.UTF8.GetString(kept), StringComparison.Ordinal);
        Assert.DoesNotContain(name, System.Text.Encoding.UTF8.GetString(kept), StringComparison.Ordinal);
    }
}
