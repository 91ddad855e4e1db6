using System.ComponentModel;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Databases;
using VirtPortal.Core.Monitoring;

namespace VirtPortal.Web.Api;

/// <summary>A resource's figures over a range, oldest first, one point per step (a point's time is the start of its step).</summary>
public sealed record MetricSeries<T>(Guid ResourceId, MetricRange Range, int StepSeconds, IReadOnlyList<T> Points);

/// <summary>The query of a series: which range, and at which step.</summary>
public sealed record SeriesQuery(
    [property: Description("FifteenMinutes, Hour (when left out), Day or Week.")] string? Range = null,
    [property: Description("Seconds per point: a multiple of the range's own resolution (its stepSeconds when left out), at most the range.")] string? Step = null);

/// <summary>
/// Metrics, as the VM and database pages chart them (the live hub's GetSeries and GetDatabaseSeries), read through
/// the access service: a VM's CPU, memory, disk and network, a database's size and sessions, by range and step.
/// </summary>
public static class MetricsApi
{
    public static RouteGroupBuilder MapMetricsApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var group = api.MapGroup("/").WithTags("Metrics").WithMetadata(new ApiSubject("resource"));
        group.MapGet("/resources/{id:guid}/metrics", VmSeriesAsync).WithName("GetResourceMetrics")
            .WithSummary("Get a VM's figures over a range")
            .WithDescription("CPU (% of its vCPUs), memory in bytes, disk and network in bytes per second. FifteenMinutes is at the sampling interval, "
                + "Hour and Day minute averages, Week hourly averages; a coarser step averages them. A VM that was not sampled has no points.")
            .WithExamples(response: ApiExamples.VmSeries);
        group.MapGet("/databases/{id:guid}/metrics", DatabaseSeriesAsync).WithName("GetDatabaseMetrics").WithMetadata(new ApiSubject("database"))
            .WithSummary("Get a database's size and sessions over a range")
            .WithDescription("FifteenMinutes and Hour are at the database check's interval, Day and Week five-minute figures; a coarser step keeps each step's last size and its most sessions.")
            .WithExamples(response: ApiExamples.DatabaseSeries);
        return group;
    }

    private static async Task<Ok<MetricSeries<MetricPoint>>> VmSeriesAsync(
        Guid id, [AsParameters] SeriesQuery query, ClaimsPrincipal user, MetricsQueries metrics, IOptions<MonitoringOptions> options, CancellationToken ct)
    {
        var range = MetricSteps.ParseRange(query.Range);
        var resolution = MetricSteps.VmResolution(range, options.Value.Interval);
        var step = MetricSteps.ParseStep(query.Step, range, resolution);
        var points = await metrics.SeriesAsync(user.Actor(), id, range, ct);
        return TypedResults.Ok(new MetricSeries<MetricPoint>(id, range, (int)(step ?? resolution).TotalSeconds, MetricSteps.Resample(points, step)));
    }

    private static async Task<Ok<MetricSeries<DatabaseSample>>> DatabaseSeriesAsync(
        Guid id, [AsParameters] SeriesQuery query, ClaimsPrincipal user, DatabaseService databases, IOptions<DatabaseOptions> options, CancellationToken ct)
    {
        var range = MetricSteps.ParseRange(query.Range);
        var resolution = MetricSteps.DatabaseResolution(range, options.Value.CheckInterval);
        var step = MetricSteps.ParseStep(query.Step, range, resolution);
        var samples = await databases.SeriesAsync(user.Actor(), id, range, ct);
        return TypedResults.Ok(new MetricSeries<DatabaseSample>(id, range, (int)(step ?? resolution).TotalSeconds, MetricSteps.Resample(samples, step)));
    }
}
