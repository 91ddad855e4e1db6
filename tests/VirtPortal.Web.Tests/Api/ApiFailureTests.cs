using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Data;

namespace VirtPortal.Web.Tests.Api;

/// <summary>A portal whose catalog table is gone, as a damaged database would leave it: the portal's own failure, not the caller's.</summary>
public sealed class BrokenCatalogPortal : ApiPortal;

/// <summary>When the portal itself fails, a script gets a ProblemDetails it can read and log, never an HTML page or the developer page with its headers.</summary>
public sealed class ApiFailureTests(BrokenCatalogPortal portal) : IClassFixture<BrokenCatalogPortal>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_failure_of_the_portal_answers_500_problem_details_with_a_trace_id_and_without_the_token()
    {
        var token = (await portal.TokenAsync(ApiPortal.Member)).Secret;
        using var client = portal.Client(token);
        await using (var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct))
            await db.Database.ExecuteSqlRawAsync("DROP TABLE VmSizes", Ct);

        using var response = await client.GetAsync("/api/v1/catalog/sizes", Ct);

        var problem = await response.ExpectAsync(HttpStatusCode.InternalServerError);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var traceId = problem.GetProperty("traceId").GetString();
        Assert.False(string.IsNullOrEmpty(traceId));
        Assert.StartsWith("The portal failed while answering this call.", problem.Detail(), StringComparison.Ordinal);
        Assert.Contains(traceId, problem.Detail(), StringComparison.Ordinal);
        var text = problem.GetRawText();
        Assert.DoesNotContain(token, text, StringComparison.Ordinal);
        Assert.DoesNotContain("SqliteException", text, StringComparison.Ordinal);
    }
}
