using System.Net;
using VirtPortal.Core.Access;
using VirtPortal.Core.Tokens;

namespace VirtPortal.Web.Tests.Api;

/// <summary>A script's own tokens through the API: made (the secret once), listed without secrets, revoked at once.</summary>
public sealed class TokensApiTests(ApiPortal portal) : IClassFixture<ApiPortal>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_token_made_through_the_api_works_is_listed_without_its_secret_and_stops_once_revoked()
    {
        using var client = await portal.ClientAsync(ApiPortal.Member);

        using var created = await client.PostAsync("/api/v1/tokens", new { name = "nightly", expiresAt = DateTimeOffset.UtcNow.AddHours(12), readOnly = true });
        var body = await created.ExpectAsync(HttpStatusCode.Created);
        var secret = body.GetProperty("secret").GetString()!;
        var id = body.GetProperty("token").Id();
        using var made = portal.Client(secret);
        using var list = await made.GetAsync("/api/v1/tokens", Ct);
        using var one = await made.GetAsync($"/api/v1/tokens/{id}", Ct);

        Assert.Equal($"/api/v1/tokens/{id}", created.Headers.Location?.OriginalString);
        Assert.StartsWith(ApiTokenService.Prefix, secret, StringComparison.Ordinal);
        var listed = await list.ExpectAsync(HttpStatusCode.OK);
        Assert.DoesNotContain(secret, listed.GetRawText(), StringComparison.Ordinal);
        Assert.True((await one.ExpectAsync(HttpStatusCode.OK)).GetProperty("readOnly").GetBoolean());

        using var revoked = await client.SendAsync(HttpMethod.Delete, $"/api/v1/tokens/{id}");
        await revoked.ExpectAsync(HttpStatusCode.NoContent);
        using var refused = await made.GetAsync("/api/v1/tokens", Ct);
        Assert.Equal("This API token was revoked.", (await refused.ExpectAsync(HttpStatusCode.Unauthorized)).Detail());
    }

    [Theory]
    [InlineData("", 7, "name", "Enter a name that says what the token is for.")]
    [InlineData("ci", 0, "expiresAt", "Choose an expiry in the future.")]
    [InlineData("ci", 400, "expiresAt", "A token lives at most 365 days.")]
    public async Task A_token_is_refused_on_the_field_that_is_wrong(string name, int days, string field, string message)
    {
        using var client = await portal.ClientAsync(ApiPortal.Member);

        using var response = await client.PostAsync("/api/v1/tokens", new { name, expiresAt = DateTimeOffset.UtcNow.AddDays(days) });

        Assert.Equal([message], (await response.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors(field));
    }

    [Fact]
    public async Task A_token_limited_to_a_tenant_makes_no_token_for_every_tenant_and_a_read_only_one_makes_none()
    {
        using var scoped = await portal.ClientAsync(ApiPortal.Owner, tenantId: await portal.AcmeAsync());
        using var reader = await portal.ClientAsync(ApiPortal.Owner, readOnly: true);
        var draft = new { name = "child", expiresAt = DateTimeOffset.UtcNow.AddHours(1) };

        using var wider = await scoped.PostAsync("/api/v1/tokens", draft);
        using var reading = await reader.PostAsync("/api/v1/tokens", draft);

        Assert.Equal(["This token reaches one tenant only: it makes tokens for that tenant alone."], (await wider.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors("tenantId"));
        Assert.Equal(AccessRules.ReadOnlyTokenReason, (await reading.ExpectAsync(HttpStatusCode.Forbidden)).Detail());
    }

    [Fact]
    public async Task Another_users_token_does_not_exist_for_a_script()
    {
        var theirs = await portal.TokenAsync(ApiPortal.Owner);
        using var client = await portal.ClientAsync(ApiPortal.Member);

        using var read = await client.GetAsync($"/api/v1/tokens/{theirs.Token.Id}", Ct);
        using var revoke = await client.SendAsync(HttpMethod.Delete, $"/api/v1/tokens/{theirs.Token.Id}");

        Assert.Equal("This token does not exist.", (await read.ExpectAsync(HttpStatusCode.NotFound)).Detail());
        Assert.Equal("This token does not exist.", (await revoke.ExpectAsync(HttpStatusCode.NotFound)).Detail());
        using var stillWorks = portal.Client(theirs.Secret);
        using var list = await stillWorks.GetAsync("/api/v1/tokens", Ct);
        await list.ExpectAsync(HttpStatusCode.OK);
    }
}
