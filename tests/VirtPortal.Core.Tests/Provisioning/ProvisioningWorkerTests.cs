using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tests.Requests;

namespace VirtPortal.Core.Tests.Provisioning;

/// <summary>The hosted worker itself, on the fake clock: nothing moves unless something wakes it.</summary>
public sealed class ProvisioningWorkerTests : IAsyncLifetime
{
    private PortalTestHost host = default!;
    private RequestScenario scenario = default!;
    private ProvisioningWorker worker = default!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        host = await PortalTestHost.StartAsync();
        scenario = await RequestTestData.ArrangeAsync(host);
        worker = host.Services.GetServices<IHostedService>().OfType<ProvisioningWorker>().Single();
        await worker.StartAsync(Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await worker.StopAsync(CancellationToken.None);
        await host.DisposeAsync();
    }

    [Fact]
    public async Task An_idle_worker_starts_an_approved_request_at_once_without_waiting_for_its_next_look_at_the_queue()
    {
        // The worker is idle once it waits out its idle delay on the clock. The clock never moves, so that
        // delay never ends: only the approval's own signal can wake it. (Sleeping a while instead proved
        // nothing when the worker had not got there yet: it would have found the work on its first look.)
        var idleDelay = host.Services.GetRequiredService<IOptions<ProvisioningOptions>>().Value.IdleDelay;
        await host.Time.WaitForTimerAsync(idleDelay, Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);

        var requestId = await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("web-1"), Ct);

        var state = ResourceState.Provisioning;
        for (var waited = 0; waited < 100 && state != ResourceState.Running; waited++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), Ct);
            state = (await host.ResourcesAsync(scenario.TenantId)).Single().State;
        }

        Assert.Equal(ResourceState.Running, state);
        Assert.Equal(RequestState.Completed, (await host.RequestAsync(requestId)).State);
    }
}
