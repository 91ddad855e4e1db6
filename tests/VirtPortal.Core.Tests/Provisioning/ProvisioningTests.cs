using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Live;
using VirtPortal.Core.Notifications;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Tests.Requests;

namespace VirtPortal.Core.Tests.Provisioning;

/// <summary>The provisioning service over the simulated host, with injected crashes and faults and a fake clock.</summary>
public sealed class ProvisioningTests : IAsyncLifetime
{
    private PortalTestHost host = default!;
    private RequestScenario scenario = default!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ProvisioningService Provisioning => host.Services.GetRequiredService<ProvisioningService>();

    public async ValueTask InitializeAsync()
    {
        host = await PortalTestHost.StartAsync();
        scenario = await RequestTestData.ArrangeAsync(host);
    }

    public async ValueTask DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task An_approved_vm_request_ends_with_a_running_vm_on_a_placed_host_and_a_completed_request()
    {
        var requestId = await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("web-1"), Ct);

        Assert.True(await Provisioning.RunOnceAsync("worker-a", Ct));

        var vm = Assert.Single(await host.ResourcesAsync(scenario.TenantId));
        Assert.Equal(ResourceState.Running, vm.State);
        Assert.NotNull(vm.HostId);
        Assert.StartsWith("placed on demo", vm.PlacementReason, StringComparison.Ordinal);
        var domain = Assert.Single(await (await host.DemoHostAsync()).ListDomainsAsync(Ct));
        Assert.Equal((vm.Id, DomainState.Running), (domain.Id, domain.State));
        Assert.StartsWith("vp-", domain.Name, StringComparison.Ordinal);
        var request = await host.RequestAsync(requestId);
        Assert.Equal(RequestState.Completed, request.State);
        Assert.Equal([RequestState.Submitted, RequestState.Approved, RequestState.Provisioning, RequestState.Completed], request.Timeline.OrderBy(e => e.Id).Select(e => e.To));
        await using var db = host.NewDb();
        Assert.True(await db.Notifications.AnyAsync(n => n.UserId == scenario.Requester.UserId && n.Kind == NotificationKind.ProvisioningFinished, Ct));
        Assert.False(await Provisioning.RunOnceAsync("worker-a", Ct));
    }

    [Theory]
    [InlineData("claimed")]
    [InlineData("placed")]
    [InlineData("defined")]
    [InlineData("started")]
    [InlineData("called")]
    public async Task A_worker_crash_during_create_ends_with_exactly_one_running_vm_once_its_lease_expires(string step)
    {
        var requestId = await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("web-1"), Ct);
        CrashOnceAt(step);

        await Assert.ThrowsAsync<SimulatedCrash>(() => Provisioning.RunOnceAsync("worker-a", Ct));
        Assert.False(await Provisioning.RunOnceAsync("worker-b", Ct));
        host.Time.Advance(TimeSpan.FromMinutes(3));
        Assert.True(await Provisioning.RunOnceAsync("worker-b", Ct));

        var vm = Assert.Single(await host.ResourcesAsync(scenario.TenantId));
        Assert.Equal(ResourceState.Running, vm.State);
        var domain = Assert.Single(await (await host.DemoHostAsync()).ListDomainsAsync(Ct));
        Assert.Equal((vm.Id, DomainState.Running), (domain.Id, domain.State));
        Assert.Equal(RequestState.Completed, (await host.RequestAsync(requestId)).State);
        await using var db = host.NewDb();
        var operation = await db.Operations.SingleAsync(Ct);
        Assert.Equal((OperationState.Succeeded, 2), (operation.State, operation.Attempts));
        Assert.True(await db.AuditEntries.AnyAsync(e => e.Action == "operation.taken-over", Ct));
    }

    [Theory]
    [InlineData("claimed")]
    [InlineData("placed")]
    [InlineData("called")]
    public async Task A_worker_crash_during_delete_leaves_no_orphan_once_its_lease_expires(string step)
    {
        await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("web-1"), Ct);
        await Provisioning.RunOnceAsync("worker-a", Ct);
        var vm = Assert.Single(await host.ResourcesAsync(scenario.TenantId));
        await QueueAsync(vm, OperationKind.Delete);
        CrashOnceAt(step);

        await Assert.ThrowsAsync<SimulatedCrash>(() => Provisioning.RunOnceAsync("worker-a", Ct));
        host.Time.Advance(TimeSpan.FromMinutes(3));
        Assert.True(await Provisioning.RunOnceAsync("worker-b", Ct));

        Assert.Equal(ResourceState.Deleted, Assert.Single(await host.ResourcesAsync(scenario.TenantId)).State);
        Assert.Empty(await (await host.DemoHostAsync()).ListDomainsAsync(Ct));
    }

    [Fact]
    public async Task A_transient_error_is_retried_after_a_backoff_and_then_succeeds()
    {
        await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("web-1"), Ct);
        (await host.DemoHostAsync()).Faults.Fail("Define", () => new HypervisorUnreachableException("connection reset by peer"), times: 1);

        Assert.True(await Provisioning.RunOnceAsync("worker-a", Ct));
        Assert.False(await Provisioning.RunOnceAsync("worker-a", Ct));
        host.Time.Advance(TimeSpan.FromSeconds(3));
        Assert.True(await Provisioning.RunOnceAsync("worker-a", Ct));

        Assert.Equal(ResourceState.Running, Assert.Single(await host.ResourcesAsync(scenario.TenantId)).State);
        await using var db = host.NewDb();
        Assert.True(await db.AuditEntries.AnyAsync(e => e.Action == "operation.retry" && e.Details.Contains("connection reset by peer"), Ct));
    }

    [Fact]
    public async Task A_hundred_approved_requests_all_complete_with_workers_running_side_by_side()
    {
        await host.Tenants.UpdateAsync(scenario.Admin, scenario.TenantId, "Acme", null,
            new TenantQuota { VCpus = 1000, RamMiB = 1_000_000, DiskGiB = 100_000, Vms = 200, Databases = 5 }, Ct);
        // The simulated host holds 32 such VMs (memory) and 51 (disk); make room for all hundred.
        await using (var hosts = host.NewDb())
            await hosts.Hosts.ExecuteUpdateAsync(s => s.SetProperty(h => h.MemoryMiB, 1_048_576).SetProperty(h => h.Cpus, 256).SetProperty(h => h.StorageGiB, 100_000), Ct);
        for (var i = 0; i < 100; i++)
            await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm($"vm-{i}"), Ct);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            while (await Provisioning.RunOnceAsync($"worker-{w}", Ct))
            {
            }
        }, Ct)));

        var vms = await host.ResourcesAsync(scenario.TenantId);
        Assert.Equal(100, vms.Count(v => v.State == ResourceState.Running));
        Assert.Equal(100, (await (await host.DemoHostAsync()).ListDomainsAsync(Ct)).Count);
        await using var db = host.NewDb();
        Assert.Equal(100, await db.Requests.CountAsync(r => r.State == RequestState.Completed, Ct));
        Assert.Equal(100, await db.Operations.CountAsync(o => o.State == OperationState.Succeeded && o.Attempts == 1, Ct));
    }

    private void CrashOnceAt(string step)
    {
        var crashed = false;
        Provisioning.CrashPoint = name =>
        {
            if (name == step && !crashed)
            {
                crashed = true;
                throw new SimulatedCrash();
            }

            return Task.CompletedTask;
        };
    }

    private async Task QueueAsync(Resource resource, OperationKind kind)
    {
        await using var db = host.NewDb();
        db.Operations.Add(new Operation
        {
            Id = Guid.NewGuid(), ResourceId = resource.Id, TenantId = resource.TenantId, Kind = kind,
            CreatedAt = host.Time.GetUtcNow(), RequestedBy = scenario.Requester.UserId,
        });
        await db.SaveChangesAsync(Ct);
    }

    private sealed class SimulatedCrash : Exception;

    // What a live subscriber (a request page, the hub) hears from the worker: each request change carries
    // the version the request has in the database then, so a client holding it knows it is up to date.
    [Fact]
    public async Task A_provisioned_request_is_announced_with_its_stored_version_when_it_starts_and_when_it_completes()
    {
        var requestId = await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("web-1"), Ct);
        var approved = (await host.RequestAsync(requestId)).Version;
        var heard = Listen(requestId);

        Assert.True(await Provisioning.RunOnceAsync("worker-a", Ct));

        var versions = await heard.WaitForAsync(2);
        var request = await host.RequestAsync(requestId);
        Assert.Equal(RequestState.Completed, request.State);
        // One move to Provisioning at the claim, one to Completed at the end: each message names the version it left.
        Assert.Equal([approved + 1, approved + 2], versions.Order());
        Assert.Equal(request.Version, versions.Max());
    }

    [Fact]
    public async Task A_failed_request_is_announced_with_the_version_it_failed_at()
    {
        var requestId = await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("web-1"), Ct);
        (await host.DemoHostAsync()).Faults.Fail("Start", () => new HypervisorRefusedException("internal error: the guest could not start"));
        var heard = Listen(requestId);

        await Provisioning.RunOnceAsync("worker-a", Ct);

        var versions = await heard.WaitForAsync(2);
        var request = await host.RequestAsync(requestId);
        Assert.Equal(RequestState.Failed, request.State);
        Assert.DoesNotContain(0L, versions);
        Assert.Equal(request.Version, versions.Max());
    }

    private Heard Listen(Guid requestId)
    {
        var heard = new Heard();
        heard.Subscription = host.Services.GetRequiredService<LiveUpdates>().Subscribe(message =>
        {
            if (message is RequestChanged changed && changed.EntityId == requestId)
            {
                heard.Versions.Enqueue(changed.Version);
                heard.Arrived.Release();
            }

            return Task.CompletedTask;
        });
        return heard;
    }

    private sealed class Heard
    {
        public ConcurrentQueue<long> Versions { get; } = new();

        public SemaphoreSlim Arrived { get; } = new(0);

        public IDisposable? Subscription { get; set; }

        public async Task<long[]> WaitForAsync(int count)
        {
            for (var i = 0; i < count; i++)
                Assert.True(await Arrived.WaitAsync(TimeSpan.FromSeconds(10), Ct), $"only {i} of {count} request changes arrived");
            Subscription?.Dispose();
            return [.. Versions];
        }
    }
}
