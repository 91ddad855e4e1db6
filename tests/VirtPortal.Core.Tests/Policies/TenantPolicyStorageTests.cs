using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Policies;

namespace VirtPortal.Core.Tests.Policies;

public sealed class TenantPolicyStorageTests : PortalTestBase
{
    [Fact]
    public async Task Stored_policy_comes_back_with_exactly_its_stages()
    {
        var tenant = await Host.CreateTenantAsync("Acme");
        var stages = new List<ApprovalStage>
        {
            new() { Mode = StageMode.AnyOf, ApproverIds = ["a"] },
            new() { Mode = StageMode.AllOf, ApproverIds = ["b", "c"] },
        };
        await using (var db = Host.NewDb())
        {
            db.TenantPolicies.Add(new TenantPolicy { TenantId = tenant, Stages = stages });
            await db.SaveChangesAsync(Ct);
        }

        await using var read = Host.NewDb();
        var policy = await read.TenantPolicies.AsNoTracking().SingleAsync(Ct);

        Assert.Equal(
            [(StageMode.AnyOf, "a"), (StageMode.AllOf, "b,c")],
            policy.Stages.Select(s => (s.Mode, string.Join(',', s.ApproverIds))));
    }

    [Fact]
    public void Default_policy_has_one_stage_for_any_approver()
    {
        var policy = TenantPolicy.Default(Guid.NewGuid());

        var stage = Assert.Single(policy.Stages);
        Assert.Empty(stage.ApproverIds);
    }
}
