using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using VirtPortal.Core.Common;
using VirtPortal.Core.Tokens;

namespace VirtPortal.Web.Api;

/// <summary>The caller's own personal API tokens: list, make (the secret is in this answer only), revoke.</summary>
public static class TokensApi
{
    public static RouteGroupBuilder MapTokensApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var group = api.MapGroup("/tokens").WithTags("Tokens").WithMetadata(new ApiSubject("token"));
        group.MapGet("/", ListAsync).WithName("ListTokens").WithSummary("List your API tokens").WithDescription("With when each was last used; never their secrets.")
            .WithExamples(response: ApiExamples.PageOf(ApiExamples.TokenView));
        group.MapGet("/{id:guid}", GetAsync).WithName("GetToken").WithSummary("Get one of your API tokens").WithExamples(response: ApiExamples.TokenView);
        group.MapPost("/", CreateAsync).WithName("CreateToken").WithMetadata(ProtectedAnswer.Instance)
            .WithSummary("Make an API token")
            .WithDescription("The answer holds the secret, once: only its hash is kept. A token made with a token reaches no further and lives no longer than it; a read-only token makes none.")
            .WithExamples(ApiExamples.TokenDraft, ApiExamples.CreatedToken);
        group.MapDelete("/{id:guid}", RevokeAsync).WithName("RevokeToken").WithSummary("Revoke one of your API tokens").WithDescription("Calls with it are refused from now on.");
        return group;
    }

    private static async Task<Ok<ApiPage<ApiTokenView>>> ListAsync(ClaimsPrincipal user, [AsParameters] PageQuery page, ApiTokenService tokens, CancellationToken ct) =>
        TypedResults.Ok(PageQuery.Answer(Paging.Within(await tokens.ListAsync(user.Actor(), ct), page.ToRequest(), t => t.Id)));

    private static async Task<Ok<ApiTokenView>> GetAsync(Guid id, ClaimsPrincipal user, ApiTokenService tokens, CancellationToken ct) =>
        TypedResults.Ok((await tokens.ListAsync(user.Actor(), ct)).FirstOrDefault(t => t.Id == id) ?? throw new PortalNotFoundException("This token does not exist."));

    private static async Task<Created<CreatedApiToken>> CreateAsync(ApiTokenDraft draft, ClaimsPrincipal user, ApiTokenService tokens, CancellationToken ct)
    {
        var created = await tokens.CreateAsync(user.Actor(), draft, ct);
        return TypedResults.Created(PortalApi.Path($"/tokens/{created.Token.Id}"), created);
    }

    private static async Task<NoContent> RevokeAsync(Guid id, ClaimsPrincipal user, ApiTokenService tokens, CancellationToken ct)
    {
        await tokens.RevokeAsync(user.Actor(), id, ct);
        return TypedResults.NoContent();
    }
}
