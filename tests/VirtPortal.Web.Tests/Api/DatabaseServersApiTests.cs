using System.Net;

namespace VirtPortal.Web.Tests.Api;

/// <summary>Database servers through the API: listed, tested and maintained by admins, never showing their admin connections.</summary>
public sealed class DatabaseServersApiTests(ApiPortal portal) : IClassFixture<ApiPortal>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_embedded_server_is_listed_goes_into_maintenance_and_back_and_is_never_removed()
    {
        using var admin = await portal.ClientAsync(ApiPortal.Admin);

        using var list = await admin.GetAsync("/api/v1/database-servers", Ct);
        var embedded = (await list.ExpectAsync(HttpStatusCode.OK)).Items().Single(s => s.GetProperty("engine").GetString() == "Sqlite");
        var id = embedded.Id();
        using var maintenance = await admin.SendAsync(HttpMethod.Put, $"/api/v1/database-servers/{id}/maintenance", new { maintenance = true });
        using var back = await admin.SendAsync(HttpMethod.Put, $"/api/v1/database-servers/{id}/maintenance", new { maintenance = false });
        using var removed = await admin.SendAsync(HttpMethod.Delete, $"/api/v1/database-servers/{id}");
        using var read = await admin.GetAsync($"/api/v1/database-servers/{id}", Ct);

        Assert.Equal("Maintenance", (await maintenance.ExpectAsync(HttpStatusCode.OK)).GetProperty("state").GetString());
        Assert.Equal("Online", (await back.ExpectAsync(HttpStatusCode.OK)).GetProperty("state").GetString());
        Assert.EndsWith("it cannot be removed. Maintenance keeps new databases away from it.", (await removed.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors("").Single(), StringComparison.Ordinal);
        await read.ExpectAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_server_s_maintenance_at_a_version_it_has_left_gets_412_and_changes_nothing()
    {
        using var admin = await portal.ClientAsync(ApiPortal.Admin);
        using var list = await admin.GetAsync("/api/v1/database-servers", Ct);
        var id = (await list.ExpectAsync(HttpStatusCode.OK)).Items().Single(s => s.GetProperty("engine").GetString() == "Sqlite").Id();
        using var read = await admin.GetAsync($"/api/v1/database-servers/{id}", Ct);
        var name = (await read.ExpectAsync(HttpStatusCode.OK)).GetProperty("name").GetString();
        var etag = read.Headers.ETag!.Tag;

        using var started = await admin.SendAsync(HttpMethod.Put, $"/api/v1/database-servers/{id}/maintenance", new { maintenance = true },
            new Dictionary<string, string> { ["If-Match"] = etag });
        using var stale = await admin.SendAsync(HttpMethod.Put, $"/api/v1/database-servers/{id}/maintenance", new { maintenance = false },
            new Dictionary<string, string> { ["If-Match"] = etag });
        using var between = await admin.GetAsync($"/api/v1/database-servers/{id}", Ct);
        using var ended = await admin.SendAsync(HttpMethod.Put, $"/api/v1/database-servers/{id}/maintenance", new { maintenance = false },
            new Dictionary<string, string> { ["If-Match"] = started.Headers.ETag!.Tag });

        Assert.Equal("Maintenance", (await started.ExpectAsync(HttpStatusCode.OK)).GetProperty("state").GetString());
        Assert.NotEqual(etag, started.Headers.ETag?.Tag);
        Assert.StartsWith($"Database server {name} changed since you read it", (await stale.ExpectAsync(HttpStatusCode.PreconditionFailed)).Detail(), StringComparison.Ordinal);
        Assert.Equal("Maintenance", (await between.ExpectAsync(HttpStatusCode.OK)).GetProperty("state").GetString());
        Assert.Equal("Online", (await ended.ExpectAsync(HttpStatusCode.OK)).GetProperty("state").GetString());
    }

    [Fact]
    public async Task A_connection_that_is_no_connection_string_is_refused_on_its_field_and_a_server_that_does_not_answer_says_why()
    {
        using var admin = await portal.ClientAsync(ApiPortal.Admin);

        using var bad = await admin.PostAsync("/api/v1/database-servers", new { name = "pg-x", adminConnection = "postgres://me", maxDatabases = 0, storageGiB = 5 });
        using var silent = await admin.PostAsync("/api/v1/database-servers/test", new { name = "pg-y", adminConnection = "Host=127.0.0.1;Port=1;Username=nobody;Password=x", maxDatabases = 5, storageGiB = 5 });
        using var list = await admin.GetAsync("/api/v1/database-servers", Ct);

        var problem = await bad.ExpectAsync(HttpStatusCode.UnprocessableEntity);
        Assert.StartsWith("This is not a PostgreSQL connection string", problem.FieldErrors("adminConnection").Single(), StringComparison.Ordinal);
        Assert.Equal(["A server holds between 1 and 10000 databases."], problem.FieldErrors("maxDatabases"));
        var test = await silent.ExpectAsync(HttpStatusCode.OK);
        Assert.False(test.GetProperty("succeeded").GetBoolean());
        Assert.False(string.IsNullOrEmpty(test.GetProperty("error").GetString()));
        Assert.DoesNotContain((await list.ExpectAsync(HttpStatusCode.OK)).Items(), s => s.GetProperty("name").GetString() is "pg-x" or "pg-y");
    }

    [Fact]
    public async Task Only_admins_see_database_servers_and_a_read_only_admin_token_is_told_it_is_read_only()
    {
        using var helpdesk = await portal.ClientAsync(ApiPortal.Helpdesk);
        using var reader = await portal.ClientAsync(ApiPortal.Admin, readOnly: true);

        using var list = await helpdesk.GetAsync("/api/v1/database-servers", Ct);
        using var read = await reader.GetAsync("/api/v1/database-servers", Ct);

        Assert.Equal("This database server does not exist or you may not see it.", (await list.ExpectAsync(HttpStatusCode.NotFound)).Detail());
        Assert.Equal("This API token is read-only.", (await read.ExpectAsync(HttpStatusCode.Forbidden)).Detail());
    }
}
