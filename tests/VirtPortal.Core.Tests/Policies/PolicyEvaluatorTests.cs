using VirtPortal.Core.Policies;
using VirtPortal.Core.Requests;

namespace VirtPortal.Core.Tests.Policies;

public sealed class PolicyEvaluatorTests
{
    private static readonly Guid ListedTemplate = Guid.NewGuid();
    private static readonly Guid OtherTemplate = Guid.NewGuid();
    private static readonly Guid ListedOffering = Guid.NewGuid();
    private static readonly Guid OtherOffering = Guid.NewGuid();

    // Limits: 4 vCPUs, 8192 MiB, 100 GiB, 30 days auto; 365 days at most.
    private static TenantPolicy Policy() => new()
    {
        TenantId = Guid.NewGuid(),
        AutoTemplateIds = [ListedTemplate],
        AutoOfferingIds = [ListedOffering],
    };

    private static PolicyFacts SmallVm(int leaseDays = 30) => new(RequestKind.NewVm, 4, 8192, 100, leaseDays, ListedTemplate);

    public static TheoryData<string, string> SingleLimitsExceeded => new()
    {
        { "vCPU", "5 vCPUs is over the auto-approval limit of 4" },
        { "RAM", "8193 MiB of RAM is over the auto-approval limit of 8192 MiB" },
        { "disk", "101 GiB of disk is over the auto-approval limit of 100 GiB" },
        { "lease", "a lease of 31 days is over the auto-approval limit of 30 days" },
        { "template", "this template is not on the auto-approval list" },
        { "offering", "this database offering is not on the auto-approval list" },
    };

    [Fact]
    public void Request_within_every_limit_approves_itself()
    {
        var verdict = PolicyEvaluator.Evaluate(Policy(), SmallVm());

        Assert.True(verdict.AutoApproves);
        Assert.Empty(verdict.Reasons);
        Assert.Empty(verdict.Violations);
    }

    [Theory]
    [MemberData(nameof(SingleLimitsExceeded))]
    public void Each_limit_exceeded_alone_needs_approval_with_a_reason_naming_it(string limit, string reason)
    {
        var facts = limit switch
        {
            "vCPU" => SmallVm() with { VCpus = 5 },
            "RAM" => SmallVm() with { RamMiB = 8193 },
            "disk" => SmallVm() with { DiskGiB = 101 },
            "lease" => SmallVm(31),
            "template" => SmallVm() with { TemplateId = OtherTemplate },
            _ => new PolicyFacts(RequestKind.NewDatabase, 0, 0, 20, 30, OfferingId: OtherOffering),
        };

        var verdict = PolicyEvaluator.Evaluate(Policy(), facts);

        Assert.False(verdict.AutoApproves);
        Assert.Equal(reason, Assert.Single(verdict.Reasons));
        Assert.Empty(verdict.Violations);
    }

    [Fact]
    public void Database_offering_on_the_list_approves_itself()
    {
        var verdict = PolicyEvaluator.Evaluate(Policy(), new PolicyFacts(RequestKind.NewDatabase, 0, 0, 20, 30, OfferingId: ListedOffering));

        Assert.True(verdict.AutoApproves);
    }

    [Fact]
    public void Tenant_without_auto_approval_needs_approval_even_for_the_smallest_request()
    {
        var policy = Policy();
        policy.AutoApprove = false;

        var verdict = PolicyEvaluator.Evaluate(policy, new PolicyFacts(RequestKind.NewVm, 1, 512, 10, 1, ListedTemplate));

        Assert.False(verdict.AutoApproves);
        Assert.Equal("this tenant approves every request by hand", Assert.Single(verdict.Reasons));
    }

    [Fact]
    public void Quota_increase_always_needs_approval()
    {
        var verdict = PolicyEvaluator.Evaluate(Policy(), new PolicyFacts(RequestKind.QuotaIncrease, 0, 0, 0, 0));

        Assert.False(verdict.AutoApproves);
        Assert.Equal("quota increases are always decided by an approver", Assert.Single(verdict.Reasons));
        Assert.Empty(verdict.Violations);
    }

    [Fact]
    public void First_lease_extension_within_the_limit_approves_itself()
    {
        var verdict = PolicyEvaluator.Evaluate(Policy(), new PolicyFacts(RequestKind.ExtendLease, 0, 0, 0, 30, IsFirstExtension: true));

        Assert.True(verdict.AutoApproves);
    }

    [Fact]
    public void Second_lease_extension_needs_approval()
    {
        var verdict = PolicyEvaluator.Evaluate(Policy(), new PolicyFacts(RequestKind.ExtendLease, 0, 0, 0, 7, IsFirstExtension: false));

        Assert.False(verdict.AutoApproves);
        Assert.Equal("only the first lease extension approves itself", Assert.Single(verdict.Reasons));
    }

    [Theory]
    [InlineData(RequestKind.NewVm)]
    [InlineData(RequestKind.NewDatabase)]
    [InlineData(RequestKind.ExtendLease)]
    public void Lease_over_the_maximum_is_a_violation_not_just_a_reason(RequestKind kind)
    {
        var verdict = PolicyEvaluator.Evaluate(Policy(), new PolicyFacts(kind, 1, 512, 10, 366, IsFirstExtension: true));

        Assert.False(verdict.AutoApproves);
        Assert.Equal("A lease of 366 days is longer than this tenant's maximum of 365 days.", Assert.Single(verdict.Violations));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Lease_shorter_than_one_day_is_a_violation(int days)
    {
        var verdict = PolicyEvaluator.Evaluate(Policy(), SmallVm(days));

        Assert.False(verdict.AutoApproves);
        Assert.Equal("A lease is at least 1 day.", Assert.Single(verdict.Violations));
    }
}
