using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Prometheus;
using VirtPortal.Core.Data;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Monitoring;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Resources;

namespace VirtPortal.Web.Hosting;

/// <summary>
/// <c>/metrics</c> in Prometheus' text format (prometheus-net): the portal's own figures, and per-VM
/// series when <see cref="MonitoringOptions.ExportPerVmSeries"/> is on. Per-VM series name tenants and
/// their resources, and a scraper signs in to nothing, so the endpoint answers loopback clients and the
/// networks in <see cref="MonitoringOptions.MetricsAllowedNetworks"/> only; everyone else gets 403.
/// </summary>
public static class MetricsEndpoint
{
    public const string Route = "/metrics";

    public static IEndpointConventionBuilder MapPortalMetrics(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<MonitoringOptions>>().Value;
        var allowed = options.AllowedNetworks();
        var exporter = new PortalMetricsExporter(
            endpoints.ServiceProvider.GetRequiredService<IDbContextFactory<PortalDbContext>>(),
            endpoints.ServiceProvider.GetRequiredService<MetricStore>(),
            options,
            endpoints.ServiceProvider.GetRequiredService<TimeProvider>());
        var builder = endpoints.MapMetrics(Route, exporter.Registry);
        builder.Add(endpoint =>
        {
            var inner = endpoint.RequestDelegate ?? throw new InvalidOperationException("The metrics endpoint has no handler.");
            endpoint.RequestDelegate = context => Allows(context.Connection.RemoteIpAddress, allowed) ? inner(context) : RefuseAsync(context);
        });
        return builder.AllowAnonymous();
    }

    /// <summary>Loopback always; otherwise only an address inside one of <paramref name="allowed"/>. No address (no network at all) is refused.</summary>
    public static bool Allows(IPAddress? remote, IReadOnlyList<IPNetwork> allowed)
    {
        ArgumentNullException.ThrowIfNull(allowed);
        if (remote is null)
            return false;
        if (remote.IsIPv4MappedToIPv6)
            remote = remote.MapToIPv4();
        return IPAddress.IsLoopback(remote) || allowed.Any(n => n.Contains(remote));
    }

    private static Task RefuseAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        context.Response.ContentType = "text/plain; charset=utf-8";
        // A body, so that the status-code pages do not turn the refusal into the not-found page.
        return context.Response.WriteAsync("/metrics answers loopback clients and the networks in Monitoring:MetricsAllowedNetworks only.\n");
    }

    /// <summary>The gauges, on a registry of this app's own, set from the database and the collector at each scrape.</summary>
    private sealed class PortalMetricsExporter
    {
        private static readonly string[] VmLabels = ["tenant", "resource"];

        private readonly IDbContextFactory<PortalDbContext> dbFactory;
        private readonly MetricStore store;
        private readonly MonitoringOptions options;
        private readonly TimeProvider time;
        private readonly Gauge resources;
        private readonly Gauge queue;
        private readonly Gauge hosts;
        private readonly Gauge sampleDuration;
        private readonly Gauge hostAnswered;
        private readonly IReadOnlyList<(Gauge Gauge, Func<MetricPoint, double> Figure)> vm;

        public PortalMetricsExporter(IDbContextFactory<PortalDbContext> dbFactory, MetricStore store, MonitoringOptions options, TimeProvider time)
        {
            (this.dbFactory, this.store, this.options, this.time) = (dbFactory, store, options, time);
            Registry = Metrics.NewCustomRegistry();
            var factory = Metrics.WithCustomRegistry(Registry);
            resources = factory.CreateGauge("virtportal_resources", "Resources the portal keeps, by kind and state (deleted ones left out).", ["kind", "state"]);
            queue = factory.CreateGauge("virtportal_operation_queue_depth", "Operations waiting for or held by a provisioning worker.", ["state"]);
            hosts = factory.CreateGauge("virtportal_hosts", "Hypervisor hosts by state.", ["state"]);
            sampleDuration = factory.CreateGauge("virtportal_collector_sample_duration_seconds", "How long the last metrics sample of a host took (bulk-stats call, rates, rollups).", ["host"]);
            hostAnswered = factory.CreateGauge("virtportal_collector_host_answered", "1 when the host answered its last metrics sample, else 0.", ["host"]);
            vm = options.ExportPerVmSeries
                ?
                [
                    (factory.CreateGauge("virtportal_vm_cpu_percent", "A VM's CPU use as a share of its vCPUs (0-100).", VmLabels), p => p.CpuPercent),
                    (factory.CreateGauge("virtportal_vm_memory_used_bytes", "A VM's memory in use, as its host reports it.", VmLabels), p => p.MemoryUsedBytes),
                    (factory.CreateGauge("virtportal_vm_memory_total_bytes", "Memory a VM can use.", VmLabels), p => p.MemoryTotalBytes),
                    (factory.CreateGauge("virtportal_vm_disk_read_bytes_per_second", "A VM's disk reads, summed over its disks.", VmLabels), p => p.DiskReadBytesPerSecond),
                    (factory.CreateGauge("virtportal_vm_disk_write_bytes_per_second", "A VM's disk writes, summed over its disks.", VmLabels), p => p.DiskWriteBytesPerSecond),
                    (factory.CreateGauge("virtportal_vm_network_receive_bytes_per_second", "Bytes a VM receives, summed over its interfaces.", VmLabels), p => p.NetRxBytesPerSecond),
                    (factory.CreateGauge("virtportal_vm_network_transmit_bytes_per_second", "Bytes a VM sends, summed over its interfaces.", VmLabels), p => p.NetTxBytesPerSecond),
                ]
                : [];
            Registry.AddBeforeCollectCallback(UpdateAsync);
        }

        public CollectorRegistry Registry { get; }

        private async Task UpdateAsync(CancellationToken ct)
        {
            // Two scrapes at once set the same values; prometheus-net's collectors are thread-safe.
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var byState = await db.Resources.AsNoTracking().Where(r => r.State != ResourceState.Deleted)
                .GroupBy(r => new { r.Kind, r.State }).Select(g => new { g.Key.Kind, g.Key.State, Count = g.Count() }).ToListAsync(ct);
            foreach (var kind in Enum.GetValues<ResourceKind>())
            {
                foreach (var state in Enum.GetValues<ResourceState>().Where(s => s != ResourceState.Deleted))
                    resources.WithLabels(kind.ToString(), state.ToString()).Set(byState.Where(r => r.Kind == kind && r.State == state).Sum(r => r.Count));
            }

            var operations = await db.Operations.AsNoTracking()
                .Where(o => o.State == OperationState.Pending || o.State == OperationState.Running)
                .GroupBy(o => o.State).Select(g => new { State = g.Key, Count = g.Count() }).ToListAsync(ct);
            foreach (var state in new[] { OperationState.Pending, OperationState.Running })
                queue.WithLabels(state.ToString()).Set(operations.Where(o => o.State == state).Sum(o => o.Count));

            var hostStates = await db.Hosts.AsNoTracking().GroupBy(h => h.State).Select(g => new { State = g.Key, Count = g.Count() }).ToListAsync(ct);
            foreach (var state in Enum.GetValues<HostState>())
                hosts.WithLabels(state.ToString()).Set(hostStates.Where(h => h.State == state).Sum(h => h.Count));

            var samples = store.Hosts();
            Keep(sampleDuration, samples.Select(s => new[] { s.HostName }));
            Keep(hostAnswered, samples.Select(s => new[] { s.HostName }));
            foreach (var sample in samples)
            {
                sampleDuration.WithLabels(sample.HostName).Set(sample.Duration.TotalSeconds);
                hostAnswered.WithLabels(sample.HostName).Set(sample.Answered ? 1 : 0);
            }

            if (vm.Count > 0)
            {
                // Points older than three intervals belong to VMs that stopped or whose host went silent.
                var points = store.LatestPoints(time.GetUtcNow() - (3 * options.Interval));
                foreach (var (gauge, figure) in vm)
                {
                    Keep(gauge, points.Select(p => new[] { p.TenantName, p.ResourceName }));
                    foreach (var point in points)
                        gauge.WithLabels(point.TenantName, point.ResourceName).Set(figure(point.Point));
                }
            }
        }

        /// <summary>Removes the series whose labels are not among <paramref name="current"/> (a removed host, a stopped VM).</summary>
        private static void Keep(Gauge gauge, IEnumerable<string[]> current)
        {
            var keep = current.Select(labels => string.Join('\u001f', labels)).ToHashSet(StringComparer.Ordinal);
            foreach (var labels in gauge.GetAllLabelValues().ToList())
            {
                if (!keep.Contains(string.Join('\u001f', labels)))
                    gauge.RemoveLabelled(labels);
            }
        }
    }
}
