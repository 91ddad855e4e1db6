using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Data;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Reconciliation;

namespace VirtPortal.Web.Tests.Api;

/// <summary>The drift inbox through the API: admins list it by pages and settle it as the inbox does; it refuses what the inbox refuses.</summary>
public sealed class DriftApiTests(ApiPortal portal) : IClassFixture<ApiPortal>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Open_drift_lists_newest_first_by_pages()
    {
        var (host, vm) = await QuietHostAsync();
        var ids = new[] { await DriftAsync(host, vm, DriftKind.StateChanged), await DriftAsync(host, vm, DriftKind.Resized), await DriftAsync(host, vm, DriftKind.Vanished) };
        using var admin = await portal.ClientAsync(ApiPortal.Admin);

        using var first = await admin.GetAsync("/api/v1/drift?limit=2", Ct);
        var page = await first.ExpectAsync(HttpStatusCode.OK);
        using var second = await admin.GetAsync($"/api/v1/drift?limit=2&cursor={page.GetProperty("nextCursor").GetString()}", Ct);
        using var bad = await admin.GetAsync("/api/v1/drift?cursor=not-ours", Ct);

        var seen = page.Items().Select(d => d.GetProperty("id").GetInt64()).Concat((await second.ExpectAsync(HttpStatusCode.OK)).Items().Select(d => d.GetProperty("id").GetInt64())).ToList();
        Assert.Equal(ids.Reverse(), seen.Where(ids.Contains));
        Assert.Equal(seen.OrderByDescending(id => id), seen);
        Assert.Equal(["Use the nextCursor of the previous page."], (await bad.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors("cursor"));
    }

    [Fact]
    public async Task Adopting_what_is_no_unknown_domain_is_refused_and_a_settled_drift_is_not_found()
    {
        var (host, vm) = await QuietHostAsync();
        var drift = await DriftAsync(host, vm, DriftKind.StateChanged);
        using var admin = await portal.ClientAsync(ApiPortal.Admin);

        using var adopt = await admin.PostAsync($"/api/v1/drift/{drift}/adopt", new { tenantId = await portal.AcmeAsync() });
        using var unknown = await admin.PostAsync($"/api/v1/drift/{long.MaxValue}/accept");

        Assert.Equal(["Only unknown domains can be adopted."], (await adopt.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors(""));
        Assert.Equal("That drift is already settled.", (await unknown.ExpectAsync(HttpStatusCode.NotFound)).Detail());
        await using var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        Assert.Null((await db.Drifts.AsNoTracking().SingleAsync(d => d.Id == drift, Ct)).ResolvedAt);
    }

    [Fact]
    public async Task Accepting_a_vanished_databases_drift_settles_it_and_it_leaves_the_list()
    {
        var database = await portal.DatabaseAsync(await portal.AcmeAsync());
        long drift;
        await using (var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct))
        {
            var entry = new Drift
            {
                DatabaseServerId = await db.DatabaseServers.Select(s => s.Id).FirstAsync(Ct), ResourceId = database.Id, DomainId = database.Id, DomainName = database.Name,
                Kind = DriftKind.Vanished, PortalView = "Running", HypervisorView = "gone", DetectedAt = DateTimeOffset.UtcNow,
            };
            db.Drifts.Add(entry);
            await db.SaveChangesAsync(Ct);
            drift = entry.Id;
        }

        using var admin = await portal.ClientAsync(ApiPortal.Admin);

        using var accepted = await admin.PostAsync($"/api/v1/drift/{drift}/accept");

        Assert.DoesNotContain((await accepted.ExpectAsync(HttpStatusCode.OK)).Items(), d => d.GetProperty("id").GetInt64() == drift);
        await using var check = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        Assert.NotNull((await check.Drifts.AsNoTracking().SingleAsync(d => d.Id == drift, Ct)).ResolvedAt);
        Assert.Equal(Core.Resources.ResourceState.Deleted, (await check.Resources.AsNoTracking().SingleAsync(r => r.Id == database.Id, Ct)).State);
    }

    [Fact]
    public async Task Helpdesk_is_told_drift_does_not_exist_and_settles_none()
    {
        var (host, vm) = await QuietHostAsync();
        var drift = await DriftAsync(host, vm, DriftKind.StateChanged);
        using var helpdesk = await portal.ClientAsync(ApiPortal.Helpdesk);

        using var list = await helpdesk.GetAsync("/api/v1/drift", Ct);
        using var accept = await helpdesk.PostAsync($"/api/v1/drift/{drift}/accept");

        Assert.Equal("This drift does not exist or you may not see it.", (await list.ExpectAsync(HttpStatusCode.NotFound)).Detail());
        await accept.ExpectAsync(HttpStatusCode.NotFound);
    }

    /// <summary>A host in maintenance (the reconciler leaves its drift alone) and an Acme VM.</summary>
    private async Task<(Guid Host, Guid Vm)> QuietHostAsync()
    {
        var vm = await portal.VmAsync(await portal.AcmeAsync());
        await using var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        var now = DateTimeOffset.UtcNow;
        var host = new Host
        {
            Id = Guid.CreateVersion7(now), Name = $"quiet-{Guid.NewGuid():N}"[..12], Driver = HostDriver.Simulated, Uri = "simulated://quiet",
            DomainType = "simulated", State = HostState.Maintenance, Cpus = 4, MemoryMiB = 4096, StorageGiB = 10, CreatedAt = now,
        };
        db.Hosts.Add(host);
        await db.SaveChangesAsync(Ct);
        return (host.Id, vm.Id);
    }

    private async Task<long> DriftAsync(Guid host, Guid vm, DriftKind kind)
    {
        await using var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        var drift = new Drift { HostId = host, ResourceId = vm, DomainId = vm, DomainName = "vm", Kind = kind, PortalView = "Running", HypervisorView = "Shutoff", DetectedAt = DateTimeOffset.UtcNow };
        db.Drifts.Add(drift);
        await db.SaveChangesAsync(Ct);
        return drift.Id;
    }
}
