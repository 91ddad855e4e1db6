using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Data;
using VirtPortal.Core.Databases;
using VirtPortal.Core.Monitoring;
using VirtPortal.Core.Tenancy;

namespace VirtPortal.Web.Tests.Api;

/// <summary>Metrics through the API: a VM's and a database's series by range and step, as their pages chart them.</summary>
public sealed class MetricsApiTests(ApiPortal portal) : IClassFixture<ApiPortal>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_vms_hour_comes_at_its_minutes_and_a_five_minute_step_averages_them()
    {
        var vm = await portal.VmAsync(await portal.AcmeAsync());
        var start = await MinutesAsync(vm.Id, 10);
        using var client = await portal.ClientAsync(ApiPortal.Member);

        using var minutes = await client.GetAsync($"/api/v1/resources/{vm.Id}/metrics?range=Hour", Ct);
        using var stepped = await client.GetAsync($"/api/v1/resources/{vm.Id}/metrics?range=Hour&step=300", Ct);

        var all = await minutes.ExpectAsync(HttpStatusCode.OK);
        Assert.Equal((60, 10), (all.GetProperty("stepSeconds").GetInt32(), all.GetProperty("points").GetArrayLength()));
        var series = await stepped.ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(("Hour", 300), (series.GetProperty("range").GetString(), series.GetProperty("stepSeconds").GetInt32()));
        var points = series.GetProperty("points").EnumerateArray().ToList();
        Assert.Equal([start, start.AddMinutes(5)], points.Select(p => p.GetProperty("at").GetDateTimeOffset()));
        Assert.Equal([20.0, 70.0], points.Select(p => p.GetProperty("cpuPercent").GetDouble()));
    }

    [Theory]
    [InlineData("range=Month", "range", "The range is one of FifteenMinutes, Hour, Day, Week.")]
    [InlineData("range=3", "range", "The range is one of FifteenMinutes, Hour, Day, Week.")]
    [InlineData("range=Hour&step=90", "step", "The step of the range Hour is a whole number of seconds, a multiple of 60 from 60 to 3600.")]
    [InlineData("range=Hour&step=7200", "step", "The step of the range Hour is a whole number of seconds, a multiple of 60 from 60 to 3600.")]
    [InlineData("step=5m", "step", "The step of the range Hour is a whole number of seconds, a multiple of 60 from 60 to 3600.")]
    [InlineData("range=Week&step=60", "step", "The step of the range Week is a whole number of seconds, a multiple of 3600 from 3600 to 604800.")]
    [InlineData("range=FifteenMinutes&step=7", "step", "The step of the range FifteenMinutes is a whole number of seconds, a multiple of 5 from 5 to 900.")]
    public async Task A_range_or_step_the_charts_do_not_have_is_refused_on_its_field(string query, string field, string message)
    {
        var vm = await portal.VmAsync(await portal.AcmeAsync());
        using var client = await portal.ClientAsync(ApiPortal.Member);

        using var response = await client.GetAsync($"/api/v1/resources/{vm.Id}/metrics?{query}", Ct);

        var problem = await response.ExpectAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal([message], problem.FieldErrors(field));
    }

    [Fact]
    public async Task A_databases_day_at_a_quarter_hour_step_keeps_each_steps_last_size_and_its_most_sessions()
    {
        var database = await portal.DatabaseAsync(await portal.AcmeAsync());
        var start = MetricRollups.BucketOf(DateTimeOffset.UtcNow.AddHours(-3), MetricResolution.Hour);
        await using (var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct))
        {
            for (var i = 0; i < 6; i++)
                db.DatabaseFigureRollups.Add(new DatabaseFigureRollup { ResourceId = database.Id, BucketStart = start.AddMinutes(5 * i), Samples = 20, SizeBytes = 1000 + i, PeakConnections = i % 3 == 1 ? 9 : 2 });
            await db.SaveChangesAsync(Ct);
        }

        using var client = await portal.ClientAsync(ApiPortal.Member);

        using var response = await client.GetAsync($"/api/v1/databases/{database.Id}/metrics?range=Day&step=900", Ct);
        using var bad = await client.GetAsync($"/api/v1/databases/{database.Id}/metrics?range=Day&step=60", Ct);

        var points = (await response.ExpectAsync(HttpStatusCode.OK)).GetProperty("points").EnumerateArray().ToList();
        Assert.Equal([start, start.AddMinutes(15)], points.Select(p => p.GetProperty("at").GetDateTimeOffset()));
        Assert.Equal([1002L, 1005L], points.Select(p => p.GetProperty("sizeBytes").GetInt64()));
        Assert.Equal([9, 9], points.Select(p => p.GetProperty("activeConnections").GetInt32()));
        Assert.Equal(["The step of the range Day is a whole number of seconds, a multiple of 300 from 300 to 86400."],
            (await bad.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors("step"));
    }

    [Fact]
    public async Task Another_tenants_member_is_told_the_vm_does_not_exist_and_reads_nothing()
    {
        var vm = await portal.VmAsync(await portal.AcmeAsync());
        await MinutesAsync(vm.Id, 3);
        var stranger = await portal.UserAsync((await portal.GlobexAsync(), TenantRole.Owner));
        using var client = portal.Client((await portal.TokenAsync(stranger)).Secret);

        using var response = await client.GetAsync($"/api/v1/resources/{vm.Id}/metrics", Ct);
        using var database = await client.GetAsync($"/api/v1/databases/{vm.Id}/metrics", Ct);

        Assert.Equal("This resource does not exist or you may not see it.", (await response.ExpectAsync(HttpStatusCode.NotFound)).Detail());
        Assert.Equal("This database does not exist or you may not see it.", (await database.ExpectAsync(HttpStatusCode.NotFound)).Detail());
    }

    /// <summary>Minute rollups of the VM from a five-minute boundary half an hour ago, CPU 0, 10, 20 … %; the first one's time.</summary>
    private async Task<DateTimeOffset> MinutesAsync(Guid vmId, int count)
    {
        var start = MetricRollups.BucketOf(DateTimeOffset.UtcNow.AddMinutes(-30), MetricResolution.Hour).AddMinutes(
            (DateTimeOffset.UtcNow.AddMinutes(-30).Minute / 5) * 5);
        await using var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        for (var i = 0; i < count; i++)
        {
            db.MetricRollups.Add(new MetricRollup
            {
                ResourceId = vmId, Resolution = MetricResolution.Minute, BucketStart = start.AddMinutes(i), Samples = 12, CpuPercent = i * 10,
                MemoryUsedBytes = 1 << 20, MemoryTotalBytes = 1 << 30,
            });
        }

        await db.SaveChangesAsync(Ct);
        return start;
    }
}
