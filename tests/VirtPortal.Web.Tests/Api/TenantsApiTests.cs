using System.Net;
using VirtPortal.Core.Tenancy;

namespace VirtPortal.Web.Tests.Api;

/// <summary>Tenants through the API: made, edited, archived by admins; members managed by their owners; approval policies; refused as the tenant forms refuse.</summary>
public sealed class TenantsApiTests(ApiPortal portal) : IClassFixture<ApiPortal>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_admin_creates_a_tenant_renames_it_and_changes_its_quota()
    {
        using var admin = await portal.ClientAsync(ApiPortal.Admin);
        var name = Unique("lab");

        using var created = await admin.PostAsync("/api/v1/tenants", new { name, description = "A lab", quota = TenantQuota.Default });
        var tenant = await created.ExpectAsync(HttpStatusCode.Created);
        var id = tenant.GetProperty("tenant").Id();
        using var updated = await admin.SendAsync(HttpMethod.Put, $"/api/v1/tenants/{id}", new { name = name + "-2", description = "", quota = TenantQuota.Default with { Vms = 3 } });

        Assert.Equal($"/api/v1/tenants/{id}", created.Headers.Location?.OriginalString);
        Assert.Empty(tenant.GetProperty("members").EnumerateArray());
        var after = (await updated.ExpectAsync(HttpStatusCode.OK)).GetProperty("tenant");
        Assert.Equal((name + "-2", 3), (after.GetProperty("name").GetString(), after.GetProperty("quota").GetProperty("vms").GetInt32()));
        using var read = await admin.GetAsync($"/api/v1/tenants/{id}", Ct);
        Assert.Equal(3, (await read.ExpectAsync(HttpStatusCode.OK)).GetProperty("tenant").GetProperty("quota").GetProperty("vms").GetInt32());
    }

    [Fact]
    public async Task A_change_with_a_stale_if_match_is_refused_with_412_and_changes_nothing_and_the_current_one_goes_through()
    {
        using var admin = await portal.ClientAsync(ApiPortal.Admin);
        var id = await TenantAsync(admin);
        using var read = await admin.GetAsync($"/api/v1/tenants/{id}", Ct);
        await read.ExpectAsync(HttpStatusCode.OK);
        var etag = read.Headers.ETag!.Tag;
        using var policyRead = await admin.GetAsync($"/api/v1/tenants/{id}/policy", Ct);
        var policy = await policyRead.ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(etag, policyRead.Headers.ETag?.Tag);
        var name = Unique("v");

        using var current = await admin.SendAsync(HttpMethod.Put, $"/api/v1/tenants/{id}", new { name, description = "first", quota = TenantQuota.Default },
            new Dictionary<string, string> { ["If-Match"] = etag });
        using var stale = await admin.SendAsync(HttpMethod.Put, $"/api/v1/tenants/{id}", new { name = name + "-late", description = "late", quota = TenantQuota.Default },
            new Dictionary<string, string> { ["If-Match"] = etag });
        using var stalePolicy = await admin.SendAsync(HttpMethod.Put, $"/api/v1/tenants/{id}/policy", policy, new Dictionary<string, string> { ["If-Match"] = etag });
        using var staleArchive = await admin.PostAsync($"/api/v1/tenants/{id}/archive", headers: new Dictionary<string, string> { ["If-Match"] = etag });

        await current.ExpectAsync(HttpStatusCode.OK);
        Assert.NotEqual(etag, current.Headers.ETag?.Tag);
        foreach (var refused in new[] { stale, stalePolicy, staleArchive })
            Assert.StartsWith($"{TenantRules.VersionedName} changed since you read it", (await refused.ExpectAsync(HttpStatusCode.PreconditionFailed)).Detail(), StringComparison.Ordinal);
        using var after = await admin.GetAsync($"/api/v1/tenants/{id}", Ct);
        var tenant = (await after.ExpectAsync(HttpStatusCode.OK)).GetProperty("tenant");
        Assert.Equal((name, "first", false), (tenant.GetProperty("name").GetString(), tenant.GetProperty("description").GetString(), tenant.GetProperty("isArchived").GetBoolean()));
        Assert.Equal(current.Headers.ETag?.Tag, after.Headers.ETag?.Tag);

        using var policySaved = await admin.SendAsync(HttpMethod.Put, $"/api/v1/tenants/{id}/policy", policy,
            new Dictionary<string, string> { ["If-Match"] = after.Headers.ETag!.Tag });
        await policySaved.ExpectAsync(HttpStatusCode.OK);
        Assert.NotEqual(after.Headers.ETag.Tag, policySaved.Headers.ETag?.Tag);
    }

    [Fact]
    public async Task A_bad_name_a_taken_name_and_a_negative_quota_are_refused_on_their_fields_and_nothing_is_made()
    {
        using var admin = await portal.ClientAsync(ApiPortal.Admin);
        var taken = Unique("taken");
        using var first = await admin.PostAsync("/api/v1/tenants", new { name = taken, quota = TenantQuota.Default });
        await first.ExpectAsync(HttpStatusCode.Created);

        using var bad = await admin.PostAsync("/api/v1/tenants", new { name = "x", quota = TenantQuota.Default with { VCpus = -1 } });
        using var twice = await admin.PostAsync("/api/v1/tenants", new { name = taken, quota = TenantQuota.Default });
        using var noQuota = await admin.PostAsync("/api/v1/tenants", new { name = Unique("nq") });

        var problem = await bad.ExpectAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(["A tenant name has at least 2 characters."], problem.FieldErrors("name"));
        Assert.Equal(["A quota cannot be negative (use 0 to allow no vCPUs)."], problem.FieldErrors("quota.vCpus"));
        Assert.Equal([$"A tenant named \"{taken}\" already exists."], (await twice.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors("name"));
        Assert.Equal(["Give the quota: vCpus, ramMiB, diskGiB, vms and databases."], (await noQuota.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors("quota"));
        using var list = await admin.GetAsync("/api/v1/tenants?limit=200&includeArchived=true", Ct);
        Assert.Single((await list.ExpectAsync(HttpStatusCode.OK)).Items(), t => t.GetProperty("name").GetString() == taken);
    }

    [Fact]
    public async Task An_archived_tenant_is_listed_only_when_asked_and_archiving_it_twice_is_refused()
    {
        using var admin = await portal.ClientAsync(ApiPortal.Admin);
        var id = await TenantAsync(admin);

        using var archived = await admin.PostAsync($"/api/v1/tenants/{id}/archive");
        using var again = await admin.PostAsync($"/api/v1/tenants/{id}/archive");
        using var active = await admin.GetAsync("/api/v1/tenants?limit=200", Ct);
        using var all = await admin.GetAsync("/api/v1/tenants?limit=200&includeArchived=true", Ct);
        using var restored = await admin.PostAsync($"/api/v1/tenants/{id}/restore");

        Assert.True((await archived.ExpectAsync(HttpStatusCode.OK)).GetProperty("tenant").GetProperty("isArchived").GetBoolean());
        Assert.Equal(["The tenant is already archived."], (await again.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors(""));
        Assert.DoesNotContain((await active.ExpectAsync(HttpStatusCode.OK)).Items(), t => t.Id() == id);
        Assert.Contains((await all.ExpectAsync(HttpStatusCode.OK)).Items(), t => t.Id() == id);
        Assert.False((await restored.ExpectAsync(HttpStatusCode.OK)).GetProperty("tenant").GetProperty("isArchived").GetBoolean());
    }

    [Fact]
    public async Task An_owner_adds_a_member_changes_their_role_and_removes_them_but_may_not_leave_the_tenant_ownerless()
    {
        using var admin = await portal.ClientAsync(ApiPortal.Admin);
        var (id, name) = await NamedTenantAsync(admin);
        var owner = await portal.UserAsync((id, TenantRole.Owner));
        var joiner = await portal.UserAsync();
        using var client = portal.Client((await portal.TokenAsync(owner)).Secret);

        using var added = await client.PostAsync($"/api/v1/tenants/{id}/members", new { email = joiner.Name, role = "Member" });
        using var twice = await client.PostAsync($"/api/v1/tenants/{id}/members", new { email = joiner.Name, role = "Member" });
        using var nobody = await client.PostAsync($"/api/v1/tenants/{id}/members", new { email = "nobody@api.test" });
        using var promoted = await client.SendAsync(HttpMethod.Put, $"/api/v1/tenants/{id}/members/{joiner.UserId}", new { role = "Owner" });
        using var removed = await client.SendAsync(HttpMethod.Delete, $"/api/v1/tenants/{id}/members/{joiner.UserId}");
        using var last = await client.SendAsync(HttpMethod.Put, $"/api/v1/tenants/{id}/members/{owner.UserId}", new { role = "Member" });

        Assert.Contains((await added.ExpectAsync(HttpStatusCode.OK)).GetProperty("members").EnumerateArray(), m => m.GetProperty("userId").GetString() == joiner.UserId);
        Assert.Equal([$"{joiner.Name} is already a member of {name}."], (await twice.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors("email"));
        Assert.Equal(["No user has the email nobody@api.test. An admin can create the account first."], (await nobody.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors("email"));
        Assert.Contains((await promoted.ExpectAsync(HttpStatusCode.OK)).GetProperty("members").EnumerateArray(), m => m.GetProperty("userId").GetString() == joiner.UserId && m.GetProperty("role").GetString() == "Owner");
        await removed.ExpectAsync(HttpStatusCode.NoContent);
        Assert.EndsWith("must keep at least one owner. Make another member an owner first.", (await last.ExpectAsync(HttpStatusCode.UnprocessableEntity)).Detail(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_policy_is_read_by_members_and_set_by_admins_and_a_bad_one_is_refused_on_its_fields()
    {
        using var admin = await portal.ClientAsync(ApiPortal.Admin);
        var id = await TenantAsync(admin);
        var member = await portal.UserAsync((id, TenantRole.Member));
        using var client = portal.Client((await portal.TokenAsync(member)).Secret);

        using var saved = await admin.SendAsync(HttpMethod.Put, $"/api/v1/tenants/{id}/policy",
            new { autoApprove = true, autoMaxVCpus = 2, autoMaxRamMiB = 2048, autoMaxDiskGiB = 20, autoMaxLeaseDays = 7, maxLeaseDays = 60, stages = new[] { new { mode = "AnyOf" } } });
        using var bad = await admin.SendAsync(HttpMethod.Put, $"/api/v1/tenants/{id}/policy",
            new { autoMaxLeaseDays = 90, maxLeaseDays = 60, stages = Array.Empty<object>() });
        using var read = await client.GetAsync($"/api/v1/tenants/{id}/policy", Ct);
        using var byMember = await client.SendAsync(HttpMethod.Put, $"/api/v1/tenants/{id}/policy", new { maxLeaseDays = 1, stages = new[] { new { mode = "AnyOf" } } });

        await saved.ExpectAsync(HttpStatusCode.OK);
        var problem = await bad.ExpectAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(["Cannot exceed the maximum lease of 60 days."], problem.FieldErrors("autoMaxLeaseDays"));
        Assert.Equal(["A policy has 1 to 5 approval stages."], problem.FieldErrors("stages"));
        var policy = await read.ExpectAsync(HttpStatusCode.OK);
        Assert.Equal((2, 60), (policy.GetProperty("autoMaxVCpus").GetInt32(), policy.GetProperty("maxLeaseDays").GetInt32()));
        Assert.Equal("This tenant does not exist or you may not see it.", (await byMember.ExpectAsync(HttpStatusCode.NotFound)).Detail());
    }

    [Fact]
    public async Task An_owner_may_not_create_or_rename_tenants_and_a_member_sees_only_their_own()
    {
        using var admin = await portal.ClientAsync(ApiPortal.Admin);
        var id = await TenantAsync(admin);
        var other = await TenantAsync(admin);
        var owner = await portal.UserAsync((id, TenantRole.Owner));
        using var client = portal.Client((await portal.TokenAsync(owner)).Secret);

        using var create = await client.PostAsync("/api/v1/tenants", new { name = Unique("mine"), quota = TenantQuota.Default });
        using var rename = await client.SendAsync(HttpMethod.Put, $"/api/v1/tenants/{id}", new { name = Unique("renamed"), quota = TenantQuota.Default });
        using var list = await client.GetAsync("/api/v1/tenants", Ct);
        using var foreign = await client.GetAsync($"/api/v1/tenants/{other}", Ct);

        Assert.Equal("This tenant does not exist or you may not see it.", (await create.ExpectAsync(HttpStatusCode.NotFound)).Detail());
        await rename.ExpectAsync(HttpStatusCode.NotFound);
        Assert.Equal([id], (await list.ExpectAsync(HttpStatusCode.OK)).Items().Select(t => t.Id()));
        await foreign.ExpectAsync(HttpStatusCode.NotFound);
    }

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..16];

    private static async Task<Guid> TenantAsync(HttpClient admin) => (await NamedTenantAsync(admin)).Id;

    private static async Task<(Guid Id, string Name)> NamedTenantAsync(HttpClient admin)
    {
        var name = Unique("t");
        using var created = await admin.PostAsync("/api/v1/tenants", new { name, quota = TenantQuota.Default });
        return ((await created.ExpectAsync(HttpStatusCode.Created)).GetProperty("tenant").Id(), name);
    }
}
