using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tests.Requests;

namespace VirtPortal.Core.Tests.Provisioning;

/// <summary>Operations side by side: a per-host limit, one resource strictly in order, and work taken back from a dead process.</summary>
public sealed class ProvisioningConcurrencyTests : IAsyncLifetime
{
    private PortalTestHost host = default!;
    private RequestScenario scenario = default!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ProvisioningService Provisioning => host.Services.GetRequiredService<ProvisioningService>();

    public async ValueTask InitializeAsync()
    {
        host = await PortalTestHost.StartAsync(new Dictionary<string, string?> { ["Provisioning:MaxConcurrentPerHost"] = "3" });
        scenario = await RequestTestData.ArrangeAsync(host);
    }

    public async ValueTask DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task No_more_operations_are_claimed_on_a_host_than_its_limit_and_a_finished_one_frees_a_slot()
    {
        for (var i = 0; i < 5; i++)
            await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm($"web-{i}"), Ct);

        var claimed = new List<Guid>();
        while (await Provisioning.ClaimNextAsync("worker", Ct) is { } id)
            claimed.Add(id);

        Assert.Equal(3, claimed.Count);
        await Provisioning.ExecuteAsync(claimed[0], "worker", Ct);
        Assert.NotNull(await Provisioning.ClaimNextAsync("worker", Ct));
        Assert.Null(await Provisioning.ClaimNextAsync("worker", Ct));
    }

    [Fact]
    public async Task Placement_inside_the_claim_counts_what_earlier_claims_placed()
    {
        await using (var db = host.NewDb())
            await db.Hosts.ExecuteUpdateAsync(s => s.SetProperty(h => h.MemoryMiB, 8192).SetProperty(h => h.RamOvercommit, 1.0), Ct);
        for (var i = 0; i < 3; i++)
            await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm($"web-{i}"), Ct); // 4 GiB each

        var first = await Provisioning.ClaimNextAsync("worker", Ct);
        var second = await Provisioning.ClaimNextAsync("worker", Ct);
        var third = await Provisioning.ClaimNextAsync("worker", Ct);
        await Provisioning.ExecuteAsync(third!.Value, "worker", Ct);

        Assert.NotNull(first);
        Assert.NotNull(second);
        var vms = await host.ResourcesAsync(scenario.TenantId);
        Assert.Equal(2, vms.Count(v => v.HostId is not null && v.State == ResourceState.Provisioning));
        var refused = Assert.Single(vms, v => v.State == ResourceState.Failed);
        Assert.Contains("MiB of RAM left", refused.PlacementReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_resources_later_operation_waits_until_its_earlier_one_has_finished()
    {
        await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("web-1"), Ct);
        Assert.True(await Provisioning.RunOnceAsync("worker", Ct));
        var vm = Assert.Single(await host.ResourcesAsync(scenario.TenantId));
        var actions = host.Services.GetRequiredService<ResourceActions>();
        await actions.RequestAsync(scenario.Requester, vm.Id, OperationKind.Reboot, ct: Ct);
        host.Time.Advance(TimeSpan.FromSeconds(1));
        await actions.RequestAsync(scenario.Requester, vm.Id, OperationKind.Shutdown, ct: Ct);

        var reboot = await Provisioning.ClaimNextAsync("worker-a", Ct);
        Assert.Null(await Provisioning.ClaimNextAsync("worker-b", Ct));
        await Provisioning.ExecuteAsync(reboot!.Value, "worker-a", Ct);
        var shutdown = await Provisioning.ClaimNextAsync("worker-b", Ct);

        await using var db = host.NewDb();
        Assert.Equal(OperationKind.Reboot, (await db.Operations.SingleAsync(o => o.Id == reboot.Value, Ct)).Kind);
        Assert.Equal(OperationKind.Shutdown, (await db.Operations.SingleAsync(o => o.Id == shutdown!.Value, Ct)).Kind);
    }

    [Fact]
    public async Task Work_leased_by_a_process_of_this_machine_that_is_gone_is_taken_back_at_once()
    {
        var self = WorkerIdentity.ForThisProcess();
        foreach (var name in new[] { "dead", "alive", "elsewhere" })
        {
            await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm(name), Ct);
            host.Time.Advance(TimeSpan.FromSeconds(1)); // queued in this order
        }

        // Three leases, fresh for two more minutes: a process that exited (no such start time for its pid),
        // a live worker of this very process, and a worker of another machine.
        var dead = self with { ProcessStart = self.ProcessStart + 1, Worker = "deadbeef" };
        var alive = self with { Worker = "cafebabe" };
        var elsewhere = self with { Machine = "other-host" };
        var owners = new[] { dead, alive, elsewhere };
        foreach (var owner in owners)
            Assert.NotNull(await Provisioning.ClaimNextAsync(owner.ToString(), Ct));

        Assert.Equal(1, await Provisioning.ReclaimFromDeadProcessesAsync(self, Ct));
        var taken = await Provisioning.ClaimNextAsync(self.ToString(), Ct);

        await using var db = host.NewDb();
        var operation = await db.Operations.SingleAsync(o => o.Id == taken!.Value, Ct);
        var resource = await db.Resources.SingleAsync(r => r.Id == operation.ResourceId, Ct);
        Assert.Equal(("dead", 2), (resource.Name, operation.Attempts));
        Assert.Null(await Provisioning.ClaimNextAsync(self.ToString(), Ct));
        Assert.Single(await host.AuditAsync("operation.reclaimed"));
    }

    [Fact]
    public async Task The_worker_runs_other_vms_operations_while_one_hangs_on_its_host()
    {
        await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("slow"), Ct);
        Assert.True(await Provisioning.RunOnceAsync("worker", Ct));
        var slow = Assert.Single(await host.ResourcesAsync(scenario.TenantId));
        var demo = await host.DemoHostAsync();
        demo.Faults.Hang("Reboot");
        await host.Services.GetRequiredService<ResourceActions>().RequestAsync(scenario.Requester, slow.Id, OperationKind.Reboot, ct: Ct);
        var worker = host.Services.GetServices<IHostedService>().OfType<ProvisioningWorker>().Single();
        await worker.StartAsync(Ct);
        try
        {
            await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("fast-1"), Ct);
            await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("fast-2"), Ct);

            var running = 0;
            for (var waited = 0; waited < 100 && running < 2; waited++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), Ct);
                running = (await host.ResourcesAsync(scenario.TenantId)).Count(v => v.Name.StartsWith("fast", StringComparison.Ordinal) && v.State == ResourceState.Running);
            }

            Assert.Equal(2, running);
            await using var db = host.NewDb();
            Assert.Equal(OperationState.Running, (await db.Operations.SingleAsync(o => o.Kind == OperationKind.Reboot, Ct)).State);
        }
        finally
        {
            demo.Faults.Release("Reboot");
            await worker.StopAsync(CancellationToken.None);
        }
    }
}
