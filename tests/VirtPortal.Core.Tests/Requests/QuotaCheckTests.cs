using VirtPortal.Core.Requests;
using VirtPortal.Core.Tenancy;

namespace VirtPortal.Core.Tests.Requests;

public sealed class QuotaCheckTests
{
    private static readonly TenantQuota Quota = new() { VCpus = 10, RamMiB = 10, DiskGiB = 10, Vms = 10, Databases = 10 };

    // Each dimension's name as Describe() shows it.
    public static TheoryData<string> Dimensions => ["vCPUs", "RAM", "Disk", "VMs", "Databases"];

    [Theory]
    [MemberData(nameof(Dimensions))]
    public void Demand_under_the_limit_fits(string dimension)
    {
        var check = QuotaCheck.For(Quota, Only(dimension, 5), Only(dimension, 4));

        Assert.True(check.Fits);
        Assert.Equal(9, Line(check, dimension).After);
    }

    [Theory]
    [MemberData(nameof(Dimensions))]
    public void Demand_exactly_at_the_limit_fits(string dimension)
    {
        var check = QuotaCheck.For(Quota, Only(dimension, 5), Only(dimension, 5));

        Assert.True(check.Fits);
        Assert.Equal(0, Line(check, dimension).LeftAfter);
        Assert.Equal("", check.Describe());
    }

    [Theory]
    [MemberData(nameof(Dimensions))]
    public void Demand_one_over_the_limit_does_not_fit_and_the_description_names_the_dimension(string dimension)
    {
        var check = QuotaCheck.For(Quota, Only(dimension, 5), Only(dimension, 6));

        Assert.False(check.Fits);
        Assert.Equal(dimension, Assert.Single(check.Exceeded).Dimension);
        Assert.StartsWith(dimension + ": 5 used + 6 requested = 11", check.Describe(), StringComparison.Ordinal);
        Assert.EndsWith("over the quota of 10", check.Describe(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Dimensions))]
    public void Negative_demand_fits_even_when_usage_is_already_over_the_limit(string dimension)
    {
        var check = QuotaCheck.For(Quota, Only(dimension, 20), Only(dimension, -2));

        Assert.True(check.Fits);
    }

    private static QuotaLine Line(QuotaCheck check, string dimension) => check.Lines.Single(l => l.Dimension == dimension);

    private static ResourceDemand Only(string dimension, int value) => dimension switch
    {
        "vCPUs" => new ResourceDemand { VCpus = value },
        "RAM" => new ResourceDemand { RamMiB = value },
        "Disk" => new ResourceDemand { DiskGiB = value },
        "VMs" => new ResourceDemand { Vms = value },
        "Databases" => new ResourceDemand { Databases = value },
        _ => throw new ArgumentOutOfRangeException(nameof(dimension), dimension, null),
    };
}
