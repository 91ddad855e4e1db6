using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Data;

namespace VirtPortal.Web.Tests.Api;

/// <summary>A portal whose limits a test reaches in a few calls: 3 per token, 5 per user, 2 sign-ins per address, in an hour's window (so no window ends during a test).</summary>
public sealed class SmallLimitsPortal() : ApiPortal(new Dictionary<string, string?>
{
    ["Api:RateLimits:PerToken"] = "3",
    ["Api:RateLimits:PerUser"] = "5",
    ["Api:RateLimits:SignInPerAddress"] = "2",
    ["Api:RateLimits:Window"] = "01:00:00",
});

/// <summary>ASP.NET Core's rate limiter in front of the API and the sign-in form: 429 with Retry-After, and nothing done.</summary>
public sealed class RateLimitTests(SmallLimitsPortal portal) : IClassFixture<SmallLimitsPortal>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_token_past_its_limit_gets_429_with_retry_after_and_its_call_does_nothing()
    {
        var user = await portal.UserAsync((await portal.AcmeAsync(), Core.Tenancy.TenantRole.Member));
        using var client = portal.Client((await portal.TokenAsync(user)).Secret);
        for (var i = 0; i < 3; i++)
        {
            using var allowed = await client.GetAsync("/api/v1/catalog/sizes", Ct);
            await allowed.ExpectAsync(HttpStatusCode.OK);
        }

        var draft = ApiEndpoints.QuotaDraft(await portal.AcmeAsync()) with { Justification = $"limited {Guid.NewGuid()}" };
        using var refused = await client.PostAsync("/api/v1/requests", draft);

        var problem = await refused.ExpectAsync(HttpStatusCode.TooManyRequests);
        Assert.StartsWith("Too many requests: at most 3 calls per API token and 5 per user", problem.Detail(), StringComparison.Ordinal);
        var retryAfter = refused.Headers.RetryAfter?.Delta;
        Assert.True(retryAfter > TimeSpan.Zero && retryAfter <= TimeSpan.FromHours(1), $"Retry-After {retryAfter}");
        await using var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        Assert.False(await db.Requests.AnyAsync(r => r.Justification == draft.Justification, Ct));
    }

    [Fact]
    public async Task A_users_tokens_share_the_users_limit_and_another_users_calls_are_not_counted()
    {
        var acme = await portal.AcmeAsync();
        var user = await portal.UserAsync((acme, Core.Tenancy.TenantRole.Member));
        using var first = portal.Client((await portal.TokenAsync(user)).Secret);
        using var second = portal.Client((await portal.TokenAsync(user)).Secret);
        using var someoneElse = portal.Client((await portal.TokenAsync(await portal.UserAsync((acme, Core.Tenancy.TenantRole.Member)))).Secret);

        foreach (var (client, calls) in new[] { (first, 3), (second, 2) })
        {
            for (var i = 0; i < calls; i++)
            {
                using var allowed = await client.GetAsync("/api/v1/tokens", Ct);
                await allowed.ExpectAsync(HttpStatusCode.OK);
            }
        }

        using var refused = await second.GetAsync("/api/v1/tokens", Ct);
        using var other = await someoneElse.GetAsync("/api/v1/tokens", Ct);

        await refused.ExpectAsync(HttpStatusCode.TooManyRequests);
        Assert.NotNull(refused.Headers.RetryAfter);
        await other.ExpectAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Sign_in_attempts_past_the_limit_from_one_address_get_429_before_any_password_is_checked()
    {
        using var browser = portal.CreateBrowser();
        for (var i = 0; i < 2; i++)
        {
            using var attempt = await browser.PostLoginAsync("nobody@limits.test", "wrong-password-for-nobody");
            Assert.NotEqual(HttpStatusCode.TooManyRequests, attempt.StatusCode);
        }

        using var refused = await browser.PostLoginAsync(ApiPortal.Member, PortalAppFactory.DemoPassword);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.StartsWith("Too many requests: at most 2 sign-in attempts from one address", (await refused.JsonAsync()).Detail(), StringComparison.Ordinal);
    }
}

/// <summary>A wrong limit or token lifetime stops the portal at start-up with a message that names its key.</summary>
public sealed class ApiOptionsValidationTests
{
    [Theory]
    [InlineData("Api:RateLimits:PerToken", "0", "Api:RateLimits:PerToken must be between 1 and 1000000.")]
    [InlineData("Api:RateLimits:SignInPerAddress", "-3", "Api:RateLimits:SignInPerAddress must be between 1 and 1000000.")]
    [InlineData("Api:RateLimits:Window", "00:00:00", "Api:RateLimits:Window must be between 1 second and 1 hour.")]
    [InlineData("Api:MaxTokenLifetime", "5000.00:00:00", "Api:MaxTokenLifetime must be between 1 day and 3650 days.")]
    public async Task A_bad_setting_stops_start_up_naming_its_key(string key, string value, string message)
    {
        await using var portal = new Configured(key, value);

        var failure = Assert.ThrowsAny<Exception>(() => portal.Services);

        Assert.Contains(message, Unwrap(failure).Message, StringComparison.Ordinal);
    }

    private static Exception Unwrap(Exception e) => e is OptionsValidationException || e.InnerException is null ? e : Unwrap(e.InnerException);

    private sealed class Configured(string key, string value) : PortalAppFactory(null, new Dictionary<string, string?> { [key] = value });
}
