using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Data;

namespace VirtPortal.Web.Tests.Api;

/// <summary>Hypervisor hosts through the API: admins add, change, test, maintain and remove them; nobody else sees them.</summary>
public sealed class HostsApiTests(ApiPortal portal) : IClassFixture<ApiPortal>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_admin_adds_a_simulated_host_puts_it_in_maintenance_and_back_and_removes_it()
    {
        using var admin = await portal.ClientAsync(ApiPortal.Admin);
        var name = $"sim-{Guid.NewGuid():N}"[..12];

        using var added = await admin.PostAsync("/api/v1/hosts", Simulated(name));
        var host = await added.ExpectAsync(HttpStatusCode.Created);
        var id = host.Id();
        using var maintenance = await admin.SendAsync(HttpMethod.Put, $"/api/v1/hosts/{id}/maintenance", new { maintenance = true });
        using var back = await admin.SendAsync(HttpMethod.Put, $"/api/v1/hosts/{id}/maintenance", new { maintenance = false });
        using var removed = await admin.SendAsync(HttpMethod.Delete, $"/api/v1/hosts/{id}");
        using var gone = await admin.GetAsync($"/api/v1/hosts/{id}", Ct);

        Assert.Equal($"/api/v1/hosts/{id}", added.Headers.Location?.OriginalString);
        Assert.Equal("Online", host.GetProperty("state").GetString());
        Assert.True(host.GetProperty("cpus").GetInt32() > 0, "the host's CPUs were not read");
        Assert.Equal("Maintenance", (await maintenance.ExpectAsync(HttpStatusCode.OK)).GetProperty("state").GetString());
        Assert.Equal("Online", (await back.ExpectAsync(HttpStatusCode.OK)).GetProperty("state").GetString());
        await removed.ExpectAsync(HttpStatusCode.NoContent);
        Assert.Equal("That host is no longer registered.", (await gone.ExpectAsync(HttpStatusCode.NotFound)).Detail());
    }

    [Fact]
    public async Task A_host_s_settings_change_at_their_version_a_stale_change_gets_412_and_a_connection_test_leaves_the_version()
    {
        using var admin = await portal.ClientAsync(ApiPortal.Admin);
        var name = $"ver-{Guid.NewGuid():N}"[..12];
        using var added = await admin.PostAsync("/api/v1/hosts", Simulated(name));
        var id = (await added.ExpectAsync(HttpStatusCode.Created)).Id();
        var etag = added.Headers.ETag!.Tag;

        using var tested = await admin.PostAsync($"/api/v1/hosts/{id}/test");
        using var read = await admin.GetAsync($"/api/v1/hosts/{id}", Ct);
        await tested.ExpectAsync(HttpStatusCode.OK);
        await read.ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(etag, read.Headers.ETag?.Tag);

        using var changed = await admin.SendAsync(HttpMethod.Put, $"/api/v1/hosts/{id}", Simulated(name, cpuOvercommit: 8), IfMatch(etag));
        using var stale = await admin.SendAsync(HttpMethod.Put, $"/api/v1/hosts/{id}", Simulated(name, cpuOvercommit: 2), IfMatch(etag));
        using var staleMaintenance = await admin.SendAsync(HttpMethod.Put, $"/api/v1/hosts/{id}/maintenance", new { maintenance = true }, IfMatch(etag));

        Assert.Equal(8, (await changed.ExpectAsync(HttpStatusCode.OK)).GetProperty("cpuOvercommit").GetDouble());
        Assert.NotEqual(etag, changed.Headers.ETag?.Tag);
        foreach (var refused in new[] { stale, staleMaintenance })
            Assert.StartsWith($"Host {name} changed since you read it", (await refused.ExpectAsync(HttpStatusCode.PreconditionFailed)).Detail(), StringComparison.Ordinal);
        using var after = await admin.GetAsync($"/api/v1/hosts/{id}", Ct);
        var host = await after.ExpectAsync(HttpStatusCode.OK);
        Assert.Equal((8.0, "Online"), (host.GetProperty("cpuOvercommit").GetDouble(), host.GetProperty("state").GetString()));
        Assert.Equal(changed.Headers.ETag?.Tag, after.Headers.ETag?.Tag);
    }

    [Fact]
    public async Task Of_two_changes_made_at_the_same_version_one_is_saved_and_the_other_gets_412()
    {
        using var admin = await portal.ClientAsync(ApiPortal.Admin);
        var name = $"race-{Guid.NewGuid():N}"[..12];
        using var added = await admin.PostAsync("/api/v1/hosts", Simulated(name));
        var id = (await added.ExpectAsync(HttpStatusCode.Created)).Id();
        var etag = added.Headers.ETag!.Tag;

        var answers = await Task.WhenAll(
            admin.SendAsync(HttpMethod.Put, $"/api/v1/hosts/{id}", Simulated(name, cpuOvercommit: 2), IfMatch(etag)),
            admin.SendAsync(HttpMethod.Put, $"/api/v1/hosts/{id}", Simulated(name, cpuOvercommit: 3), IfMatch(etag)));
        try
        {
            var codes = answers.Select(a => a.StatusCode).Order().ToList();
            Assert.Equal([HttpStatusCode.OK, HttpStatusCode.PreconditionFailed], codes);
            var saved = (await answers.Single(a => a.StatusCode == HttpStatusCode.OK).ExpectAsync(HttpStatusCode.OK)).GetProperty("cpuOvercommit").GetDouble();
            using var after = await admin.GetAsync($"/api/v1/hosts/{id}", Ct);
            Assert.Equal(saved, (await after.ExpectAsync(HttpStatusCode.OK)).GetProperty("cpuOvercommit").GetDouble());
        }
        finally
        {
            foreach (var answer in answers)
                answer.Dispose();
        }
    }

    [Fact]
    public async Task A_bad_name_and_overcommit_are_refused_on_their_fields_and_no_host_is_added()
    {
        using var admin = await portal.ClientAsync(ApiPortal.Admin);
        using var before = await admin.GetAsync("/api/v1/hosts?limit=200", Ct);
        var count = (await before.ExpectAsync(HttpStatusCode.OK)).Items().Count;

        using var response = await admin.PostAsync("/api/v1/hosts", new { name = "bad name!", driver = "Simulated", uri = "simulated://x", domainType = "auto", cpuOvercommit = 0, ramOvercommit = 1 });

        var problem = await response.ExpectAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(["A host name starts with a letter or digit and has only letters, digits, '-', '_' and '.'."], problem.FieldErrors("name"));
        Assert.Single(problem.FieldErrors("cpuOvercommit"));
        using var after = await admin.GetAsync("/api/v1/hosts?limit=200", Ct);
        Assert.Equal(count, (await after.ExpectAsync(HttpStatusCode.OK)).Items().Count);
    }

    [Fact]
    public async Task A_host_with_a_vm_on_it_is_not_removed_and_a_draft_is_tested_without_being_saved()
    {
        using var admin = await portal.ClientAsync(ApiPortal.Admin);
        using var added = await admin.PostAsync("/api/v1/hosts", Simulated($"busy-{Guid.NewGuid():N}"[..12]));
        var id = (await added.ExpectAsync(HttpStatusCode.Created)).Id();
        var vm = await portal.VmAsync(await portal.AcmeAsync());
        await using (var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct))
        {
            (await db.Resources.FindAsync([vm.Id], Ct))!.HostId = id;
            await db.SaveChangesAsync(Ct);
        }

        using var removed = await admin.SendAsync(HttpMethod.Delete, $"/api/v1/hosts/{id}");
        using var tested = await admin.PostAsync("/api/v1/hosts/test", Simulated("draft-only"));
        using var list = await admin.GetAsync("/api/v1/hosts?limit=200", Ct);

        Assert.StartsWith("busy-", (await removed.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors("").Single(), StringComparison.Ordinal);
        Assert.True((await tested.ExpectAsync(HttpStatusCode.OK)).GetProperty("succeeded").GetBoolean());
        Assert.DoesNotContain((await list.ExpectAsync(HttpStatusCode.OK)).Items(), h => h.GetProperty("name").GetString() == "draft-only");
    }

    [Fact]
    public async Task Helpdesk_and_owners_are_told_hosts_do_not_exist()
    {
        using var helpdesk = await portal.ClientAsync(ApiPortal.Helpdesk);
        using var owner = await portal.ClientAsync(ApiPortal.Owner);

        using var list = await helpdesk.GetAsync("/api/v1/hosts", Ct);
        using var add = await owner.PostAsync("/api/v1/hosts", Simulated("not-mine"));

        Assert.Equal("This host does not exist or you may not see it.", (await list.ExpectAsync(HttpStatusCode.NotFound)).Detail());
        await add.ExpectAsync(HttpStatusCode.NotFound);
    }

    private static object Simulated(string name, double cpuOvercommit = 4) =>
        new { name, driver = "Simulated", uri = $"simulated://{name}", domainType = "auto", cpuOvercommit, ramOvercommit = 1 };

    private static Dictionary<string, string> IfMatch(string etag) => new() { ["If-Match"] = etag };
}
