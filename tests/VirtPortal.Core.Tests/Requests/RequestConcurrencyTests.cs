using VirtPortal.Core.Common;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Tests.Requests;

public sealed class RequestConcurrencyTests : PortalTestBase
{
    private const int Rounds = 20;

    [Fact]
    public async Task Racing_approvals_for_the_last_quota_admit_only_one()
    {
        var catalog = await RequestTestData.SeedCatalogAsync(Host);
        var requester = await Host.CreateUserAsync("requester@test.local");
        var first = await Host.CreateUserAsync("first@test.local", GlobalRoles.Approver);
        var second = await Host.CreateUserAsync("second@test.local", GlobalRoles.Approver);
        var admin = await Host.AdminAsync();

        for (var round = 1; round <= Rounds; round++)
        {
            // A fresh tenant each round whose quota holds exactly one more VM, and two waiting requests for one.
            var tenant = await Host.CreateTenantAsync($"Race {round:00}", (requester, TenantRole.Member));
            await RequestTestData.SetQuotaAsync(Host, tenant, TenantQuota.Default with { Vms = 1 });
            var s = new RequestScenario(tenant, catalog, requester, requester, requester, first, admin);
            var a = await Host.Drafts().SubmitAsync(requester, s.LargeVm("vm-a"), Ct);
            var b = await Host.Drafts().SubmitAsync(requester, s.LargeVm("vm-b"), Ct);
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var racers = new[] { Race(gate.Task, first, a), Race(gate.Task, round % 2 == 0 ? second : admin, b) };

            gate.SetResult();
            var outcomes = await Task.WhenAll(racers);

            Assert.Equal(1, outcomes.Count(o => o is null));
            var loser = Assert.Single(outcomes, o => o is not null);
            var refusal = Assert.IsType<PortalValidationException>(loser);
            Assert.Contains("quota", refusal.Message, StringComparison.Ordinal);
            Assert.Single(await Host.ResourcesAsync(tenant));
            Assert.Equal(
                [RequestState.PendingApproval, RequestState.Approved],
                new[] { (await Host.RequestAsync(a)).State, (await Host.RequestAsync(b)).State }.Order());
        }

        Task<Exception?> Race(Task gate, Actor approver, Guid requestId) => Task.Run(async () =>
        {
            await gate;
            try
            {
                await Host.Decisions().ApproveAsync(approver, requestId, Ct);
                return null;
            }
            catch (PortalValidationException e)
            {
                return (Exception?)e;
            }
        });
    }

    [Fact]
    public async Task Bulk_approval_approves_what_fits_and_reports_the_quota_error_for_the_rest()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        await RequestTestData.SetQuotaAsync(Host, s.TenantId, TenantQuota.Default with { Vms = 1 });
        var fits = await Host.Drafts().SubmitAsync(s.Requester, s.LargeVm("vm-a"), Ct);
        var overflows = await Host.Drafts().SubmitAsync(s.Requester, s.LargeVm("vm-b"), Ct);

        var outcomes = await Host.Decisions().BulkApproveAsync(s.Approver, [fits, overflows], Ct);

        Assert.Equal(2, outcomes.Count);
        Assert.Equal(new BulkOutcome(fits, true, null), outcomes.Single(o => o.RequestId == fits));
        var refused = outcomes.Single(o => o.RequestId == overflows);
        Assert.False(refused.Approved);
        Assert.Contains("Approving would exceed Acme's quota: VMs: 1 used + 1 requested = 2, over the quota of 1", refused.Error, StringComparison.Ordinal);
        Assert.Equal(RequestState.PendingApproval, (await Host.RequestAsync(overflows)).State);
        Assert.Single(await Host.ResourcesAsync(s.TenantId));
    }
}
