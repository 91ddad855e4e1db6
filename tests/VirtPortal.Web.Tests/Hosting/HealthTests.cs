using System.Net;
using System.Text.Json;

namespace VirtPortal.Web.Tests.Hosting;

public sealed class HealthTests(PortalAppFactory portal) : IClassFixture<PortalAppFactory>
{
    [Fact]
    public async Task Healthz_answers_healthy_json_to_anonymous_callers()
    {
        using var client = portal.CreateBrowser();

        using var response = await client.GetAsync(new Uri("/healthz", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal("Healthy", json.RootElement.GetProperty("status").GetString());
    }
}
