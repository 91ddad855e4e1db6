using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Notifications;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tests.Requests;

namespace VirtPortal.Core.Tests.Provisioning;

/// <summary>
/// What each failure class tells whom: one plain sentence and the request id for members, the host's own
/// words for admins, helpdesk and the audit log, and a notification to the admins when the host side failed.
/// </summary>
public sealed class ProvisioningFailureTests : IAsyncLifetime
{
    private PortalTestHost host = default!;
    private RequestScenario scenario = default!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ProvisioningService Provisioning => host.Services.GetRequiredService<ProvisioningService>();

    public async ValueTask InitializeAsync()
    {
        host = await PortalTestHost.StartAsync(new Dictionary<string, string?> { ["Provisioning:OperationTimeout"] = "00:01:00" });
        scenario = await RequestTestData.ArrangeAsync(host);
    }

    public async ValueTask DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task A_refused_create_tells_the_requester_one_plain_sentence_and_keeps_the_hosts_words_for_admins()
    {
        var requestId = await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("web-1"), Ct);
        (await host.DemoHostAsync()).Faults.Fail("Start", () => new HypervisorRefusedException(
            "internal error: process exited while connecting to monitor: Could not access KVM kernel module: Permission denied"));

        await Provisioning.RunOnceAsync("worker-a", Ct);

        var request = await host.RequestAsync(requestId);
        Assert.Equal(RequestState.Failed, request.State);
        Assert.Equal($"The host refused to create the VM; an administrator has been told. Request {requestId}.", request.Reason);
        Assert.Equal(FailureKind.HostRefused, request.FailureKind);
        Assert.Contains("Could not access KVM kernel module", request.FailureDetail, StringComparison.Ordinal);
        Assert.DoesNotContain(request.Timeline, e => e.Message.Contains("KVM", StringComparison.Ordinal));
        Assert.Equal(ResourceState.Failed, Assert.Single(await host.ResourcesAsync(scenario.TenantId)).State);
        // The domain the attempt defined is removed again: a failed create leaves nothing on the host.
        Assert.Empty(await (await host.DemoHostAsync()).ListDomainsAsync(Ct));
        await using var db = host.NewDb();
        var told = await db.Notifications.SingleAsync(n => n.UserId == scenario.Requester.UserId && n.Kind == NotificationKind.ProvisioningFailed, Ct);
        Assert.DoesNotContain("KVM", told.Text, StringComparison.Ordinal);
        var admins = await db.Notifications.Where(n => n.UserId == scenario.Admin.UserId && n.Kind == NotificationKind.HostFailure).ToListAsync(Ct);
        Assert.Contains("Could not access KVM kernel module", Assert.Single(admins).Text, StringComparison.Ordinal);
        Assert.Contains(await host.AuditAsync("operation.failed"), e => e.Details.Contains("Could not access KVM kernel module: Permission denied", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_host_that_never_answers_fails_the_request_as_not_answering_after_the_retries()
    {
        var requestId = await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("web-1"), Ct);
        (await host.DemoHostAsync()).Faults.Fail("Define", () => new HypervisorUnreachableException("unable to connect to server at 'kvm-1:16509': Connection refused"));

        for (var attempt = 0; attempt < 5; attempt++)
        {
            Assert.True(await Provisioning.RunOnceAsync("worker-a", Ct));
            host.Time.Advance(TimeSpan.FromMinutes(1));
        }

        var request = await host.RequestAsync(requestId);
        Assert.Equal((RequestState.Failed, FailureKind.HostUnreachable), (request.State, request.FailureKind));
        Assert.Equal($"The host did not answer, so the portal could not create the VM; an administrator has been told. Request {requestId}.", request.Reason);
        Assert.Contains("Connection refused", request.FailureDetail, StringComparison.Ordinal);
        await using var db = host.NewDb();
        Assert.True(await db.Notifications.AnyAsync(n => n.UserId == scenario.Admin.UserId && n.Kind == NotificationKind.HostFailure, Ct));
    }

    [Fact]
    public async Task With_no_host_in_service_the_member_is_told_there_is_no_room_and_admins_see_why()
    {
        await using (var db = host.NewDb())
            await db.Hosts.ExecuteUpdateAsync(s => s.SetProperty(h => h.State, HostState.Maintenance), Ct);
        var requestId = await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("web-1"), Ct);

        await Provisioning.RunOnceAsync("worker-a", Ct);

        var request = await host.RequestAsync(requestId);
        Assert.Equal((RequestState.Failed, FailureKind.NoCapacity), (request.State, request.FailureKind));
        Assert.StartsWith("No host has room for this VM right now", request.Reason, StringComparison.Ordinal);
        Assert.EndsWith($"Request {requestId}.", request.Reason, StringComparison.Ordinal);
        Assert.Equal("No host has room: demo is maintenance.", request.FailureDetail);
        await using var check = host.NewDb();
        Assert.False(await check.Notifications.AnyAsync(n => n.Kind == NotificationKind.HostFailure, Ct));
    }

    [Fact]
    public async Task A_host_call_that_outlasts_the_operation_timeout_fails_as_timed_out()
    {
        var requestId = await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("web-1"), Ct);
        var demo = await host.DemoHostAsync();
        demo.Faults.Hang("Define");

        var run = Provisioning.RunOnceAsync("worker-a", Ct);
        // The fake clock moves only when told: past the one-minute timeout, in steps the worker's timer sees.
        for (var step = 0; step < 40 && !run.IsCompleted; step++)
        {
            host.Time.Advance(TimeSpan.FromSeconds(5));
            await Task.Delay(TimeSpan.FromMilliseconds(25), Ct);
        }

        Assert.True(await run);
        demo.Faults.Release("Define");
        var request = await host.RequestAsync(requestId);
        Assert.Equal((RequestState.Failed, FailureKind.TimedOut), (request.State, request.FailureKind));
        Assert.Equal($"The host took too long to create the VM, so the portal stopped waiting; an administrator has been told. Request {requestId}.", request.Reason);
        Assert.Contains("within 60 s", request.FailureDetail, StringComparison.Ordinal);
    }
}
