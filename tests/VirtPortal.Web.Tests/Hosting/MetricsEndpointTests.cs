using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Data;
using VirtPortal.Core.Demo;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Live;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Resources;

namespace VirtPortal.Web.Tests.Hosting;

/// <summary>
/// <c>/metrics</c> on a real Kestrel port bound to every interface, so that a request can come from
/// loopback or from this machine's own network address, which the endpoint sees as a remote client.
/// </summary>
public sealed class MetricsEndpointTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_loopback_scraper_gets_the_portals_own_figures_as_prometheus_text_and_no_vm_series_by_default()
    {
        await using var portal = new KestrelPortal();

        using var response = await portal.ScrapeAsync(IPAddress.Loopback);
        var text = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("# TYPE virtportal_hosts gauge", text, StringComparison.Ordinal);
        Assert.Contains("virtportal_hosts{state=\"Online\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("virtportal_resources{kind=\"Vm\",state=\"Running\"} 0", text, StringComparison.Ordinal);
        Assert.Contains("virtportal_operation_queue_depth{state=\"Pending\"} 0", text, StringComparison.Ordinal);
        Assert.DoesNotContain("virtportal_vm_", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_scraper_outside_loopback_and_the_allowed_networks_is_refused()
    {
        await using var portal = new KestrelPortal();

        using var response = await portal.ScrapeAsync(OwnNetworkAddress());

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.DoesNotContain("virtportal_", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_scraper_in_an_allowed_network_is_served()
    {
        var address = OwnNetworkAddress();
        await using var portal = new KestrelPortal(new Dictionary<string, string?> { ["Monitoring:MetricsAllowedNetworks:0"] = $"{address}/32" });

        using var response = await portal.ScrapeAsync(address);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("virtportal_hosts{state=\"Online\"} 1", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_per_vm_series_on_a_running_vm_is_exported_under_its_tenant_and_name()
    {
        await using var portal = new KestrelPortal(new Dictionary<string, string?>
        {
            ["Monitoring:ExportPerVmSeries"] = "true",
            ["Monitoring:Interval"] = "00:00:01",
        });
        var sampled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var vmId = Guid.NewGuid();
        using var subscription = portal.Services.GetRequiredService<LiveUpdates>().Subscribe(m =>
        {
            if (m is MetricsSampled s && s.ResourceId == vmId)
                sampled.TrySetResult();
            return Task.CompletedTask;
        });
        await portal.RunVmAsync(vmId, DemoAccounts.AcmeTenant, "probe-vm");

        await sampled.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        using var response = await portal.ScrapeAsync(IPAddress.Loopback);
        var text = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        foreach (var series in new[] { "cpu_percent", "memory_used_bytes", "memory_total_bytes", "disk_read_bytes_per_second", "disk_write_bytes_per_second", "network_receive_bytes_per_second", "network_transmit_bytes_per_second" })
            Assert.Contains($"virtportal_vm_{series}{{tenant=\"{DemoAccounts.AcmeTenant}\",resource=\"probe-vm\"}} ", text, StringComparison.Ordinal);
        Assert.Contains("virtportal_collector_host_answered{host=\"demo\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("virtportal_collector_sample_duration_seconds{host=\"demo\"} ", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_allowed_network_stops_start_up_naming_the_setting()
    {
        using var portal = new PortalAppFactoryWith(new Dictionary<string, string?> { ["Monitoring:MetricsAllowedNetworks:0"] = "10.0.0.0/33" });

        var error = Assert.ThrowsAny<Exception>(() => portal.Services);

        Assert.Contains("Monitoring:MetricsAllowedNetworks", error.ToString(), StringComparison.Ordinal);
    }

    /// <summary>This machine's first IPv4 address outside loopback: a request to it arrives from it, as from another host.</summary>
    private static IPAddress OwnNetworkAddress() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
        ?? throw new InvalidOperationException("This machine has no IPv4 address outside loopback to scrape from.");

    private sealed class PortalAppFactoryWith(IReadOnlyDictionary<string, string?> overrides) : PortalAppFactory(null, overrides);

    private sealed class KestrelPortal : PortalAppFactory
    {
        private readonly int port;

        public KestrelPortal(IReadOnlyDictionary<string, string?>? overrides = null)
            : base(null, overrides ?? new Dictionary<string, string?>())
        {
            UseKestrel(options => options.Listen(IPAddress.Any, 0));
            StartServer();
            var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            port = new Uri(address).Port;
        }

        public async Task<HttpResponseMessage> ScrapeAsync(IPAddress to)
        {
            using var client = new HttpClient();
            return await client.GetAsync(new Uri($"http://{to}:{port}/metrics"), Ct);
        }

        /// <summary>A running VM of <paramref name="tenant"/> on the demo host, arranged as a finished create leaves it.</summary>
        public async Task RunVmAsync(Guid id, string tenant, string name)
        {
            await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
            var host = await db.Hosts.AsNoTracking().SingleAsync(h => h.Name == "demo", Ct);
            var now = DateTimeOffset.UtcNow;
            db.Resources.Add(new Resource
            {
                Id = id, TenantId = await TenantIdAsync(tenant), Kind = ResourceKind.Vm, Name = name, VCpus = 1, RamMiB = 512, DiskGiB = 10,
                State = ResourceState.Running, HostId = host.Id, CreatedAt = now, LeaseEndsAt = now.AddDays(7), Version = 1,
            });
            await db.SaveChangesAsync(Ct);
            await Services.GetRequiredService<HypervisorRegistry>().For(host).CreateAsync(new DomainSpec(id, name, 1, 512, 10, "debian-12"), Ct);
        }
    }
}
