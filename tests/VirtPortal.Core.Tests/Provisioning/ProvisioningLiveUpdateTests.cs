using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Live;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Tests.Requests;

namespace VirtPortal.Core.Tests.Provisioning;

/// <summary>
/// What a live subscriber (a request page, the hub) hears from the provisioning worker: each request
/// change carries the version the request has in the database at that moment, so a client that holds
/// that version knows it is up to date and one that holds less knows to re-read.
/// </summary>
public sealed class ProvisioningLiveUpdateTests : IAsyncLifetime
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
