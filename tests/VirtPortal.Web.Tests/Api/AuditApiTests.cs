using System.Net;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Data;
using VirtPortal.Core.Tenancy;

namespace VirtPortal.Web.Tests.Api;

/// <summary>The audit log through the API: paged newest first by id, filtered as its page filters, within what the caller may read.</summary>
public sealed class AuditApiTests(ApiPortal portal) : IClassFixture<ApiPortal>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Entries_page_newest_first_by_id_and_no_entry_is_seen_twice_or_skipped()
    {
        var mark = $"paging-{Guid.NewGuid():N}"[..16];
        var written = await WriteAsync(5, await portal.AcmeAsync(), mark);
        using var admin = await portal.ClientAsync(ApiPortal.Admin);

        var seen = new List<long>();
        string? cursor = null;
        do
        {
            using var response = await admin.GetAsync($"/api/v1/audit?target={mark}&limit=2{(cursor is null ? "" : "&cursor=" + cursor)}", Ct);
            var page = await response.ExpectAsync(HttpStatusCode.OK);
            seen.AddRange(page.Items().Select(e => e.GetProperty("id").GetInt64()));
            cursor = page.GetProperty("nextCursor").GetString();
            if (seen.Count == 2)
                await WriteAsync(1, await portal.AcmeAsync(), mark);
        }
        while (cursor is not null);

        Assert.Equal(written.AsEnumerable().Reverse(), seen);
    }

    [Fact]
    public async Task The_filters_are_those_of_the_audit_page()
    {
        var acme = await portal.AcmeAsync();
        var mark = $"filter-{Guid.NewGuid():N}"[..16];
        var ids = await WriteAsync(3, acme, mark);
        using var admin = await portal.ClientAsync(ApiPortal.Admin);

        async Task<IReadOnlyList<long>> IdsAsync(string query)
        {
            using var response = await admin.GetAsync($"/api/v1/audit?target={mark}&{query}", Ct);
            return [.. (await response.ExpectAsync(HttpStatusCode.OK)).Items().Select(e => e.GetProperty("id").GetInt64())];
        }

        Assert.Equal([ids[1]], await IdsAsync("action=test.second"));
        Assert.Equal([ids[2], ids[0]], await IdsAsync("actor=TESTER ONE"));
        Assert.Equal(3, (await IdsAsync($"tenantId={acme}")).Count);
        Assert.Empty(await IdsAsync($"tenantId={await portal.GlobexAsync()}"));
        Assert.Equal([ids[1], ids[0]], await IdsAsync($"from={Uri.EscapeDataString(At(0).ToString("O"))}&to={Uri.EscapeDataString(At(2).ToString("O"))}"));
    }

    [Fact]
    public async Task A_bad_cursor_limit_or_time_range_is_refused_on_its_field()
    {
        using var admin = await portal.ClientAsync(ApiPortal.Admin);

        using var cursor = await admin.GetAsync("/api/v1/audit?cursor=AAAA", Ct);
        using var limit = await admin.GetAsync("/api/v1/audit?limit=201", Ct);
        using var range = await admin.GetAsync("/api/v1/audit?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", Ct);

        Assert.Equal(["Use the nextCursor of the previous page."], (await cursor.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors("cursor"));
        Assert.Equal(["The limit is between 1 and 200."], (await limit.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors("limit"));
        Assert.Equal(["The end of the time range comes after its start."], (await range.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors("to"));
    }

    [Fact]
    public async Task An_owner_reads_their_tenants_entries_only_and_is_told_another_tenant_does_not_exist()
    {
        var mark = $"scope-{Guid.NewGuid():N}"[..16];
        var acme = await WriteAsync(1, await portal.AcmeAsync(), mark);
        var globex = await WriteAsync(1, await portal.GlobexAsync(), mark);
        var owner = await portal.UserAsync((await portal.AcmeAsync(), TenantRole.Owner));
        var member = await portal.UserAsync((await portal.AcmeAsync(), TenantRole.Member));
        using var client = portal.Client((await portal.TokenAsync(owner)).Secret);
        using var plain = portal.Client((await portal.TokenAsync(member)).Secret);

        using var own = await client.GetAsync($"/api/v1/audit?target={mark}", Ct);
        using var other = await client.GetAsync($"/api/v1/audit?tenantId={await portal.GlobexAsync()}", Ct);
        using var none = await plain.GetAsync("/api/v1/audit", Ct);

        Assert.Equal(acme, (await own.ExpectAsync(HttpStatusCode.OK)).Items().Select(e => e.GetProperty("id").GetInt64()));
        Assert.DoesNotContain(globex[0], acme);
        Assert.Equal("This tenant does not exist or you may not see it.", (await other.ExpectAsync(HttpStatusCode.NotFound)).Detail());
        await none.ExpectAsync(HttpStatusCode.NotFound);
    }

    private static DateTimeOffset At(int i) => new(2026, 11, 20, 12, i, 0, TimeSpan.Zero);

    /// <summary>Entries for the tenant whose target holds <paramref name="mark"/>: by "Tester One" (even) and "Tester Two" (odd), actions test.first, test.second, …; their ids, oldest first.</summary>
    private async Task<long[]> WriteAsync(int count, Guid tenantId, string mark)
    {
        await using var db = await portal.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        var entries = Enumerable.Range(0, count).Select(i => new AuditEntry
        {
            At = At(i), ActorId = "test", ActorName = i % 2 == 0 ? "Tester One" : "Tester Two", Action = i switch { 0 => "test.first", 1 => "test.second", _ => "test.more" },
            TenantId = tenantId, Target = $"VM {mark}", Details = "",
        }).ToList();
        foreach (var entry in entries)
        {
            db.AuditEntries.Add(entry);
            await db.SaveChangesAsync(Ct);
        }

        return [.. entries.Select(e => e.Id)];
    }
}
