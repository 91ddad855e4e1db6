using VirtPortal.Core.Common;
using VirtPortal.Core.Tenancy;

namespace VirtPortal.Core.Tests.Tenancy;

public sealed class TenantRulesTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void Empty_name_asks_for_a_name(string? name)
    {
        var error = TenantRules.NameError(name);

        Assert.Equal("Enter a name for the tenant.", error);
    }

    [Fact]
    public void Name_shorter_than_the_minimum_is_refused()
    {
        var error = TenantRules.NameError(" a ");

        Assert.Contains($"at least {TenantRules.NameMinLength}", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Name_longer_than_the_maximum_is_refused()
    {
        var error = TenantRules.NameError(new string('x', TenantRules.NameMaxLength + 1));

        Assert.Contains($"at most {TenantRules.NameMaxLength}", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Acme\u0007Labs")]
    [InlineData("Acme\nLabs")]
    [InlineData("Acme\tLabs")]
    public void Name_with_control_characters_is_refused(string name)
    {
        var error = TenantRules.NameError(name);

        Assert.Equal("A tenant name cannot contain control characters.", error);
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("  Acme Research  ")]
    public void Names_within_the_rules_are_accepted(string name)
    {
        Assert.Null(TenantRules.NameError(name));
    }

    [Fact]
    public void Name_of_exactly_the_maximum_length_is_accepted()
    {
        Assert.Null(TenantRules.NameError(new string('x', TenantRules.NameMaxLength)));
    }

    [Fact]
    public void Negative_quota_is_refused_on_its_field()
    {
        var errors = TenantRules.QuotaErrors(TenantQuota.Default with { RamMiB = -1 });

        Assert.Equal([nameof(TenantQuota.RamMiB)], errors.Keys);
    }

    [Fact]
    public void Quota_over_the_maximum_is_refused_on_its_field()
    {
        var errors = TenantRules.QuotaErrors(TenantQuota.Default with { VCpus = TenantRules.MaxVCpus + 1 });

        Assert.Equal([nameof(TenantQuota.VCpus)], errors.Keys);
    }

    [Fact]
    public void Quota_exactly_at_every_maximum_is_allowed()
    {
        var quota = new TenantQuota
        {
            VCpus = TenantRules.MaxVCpus,
            RamMiB = TenantRules.MaxRamMiB,
            DiskGiB = TenantRules.MaxDiskGiB,
            Vms = TenantRules.MaxVms,
            Databases = TenantRules.MaxDatabases,
        };

        Assert.Empty(TenantRules.QuotaErrors(quota));
    }

    [Fact]
    public void Zero_quota_is_allowed()
    {
        Assert.Empty(TenantRules.QuotaErrors(new TenantQuota()));
    }

    [Fact]
    public void Validate_reports_every_bad_field_at_once()
    {
        var error = Assert.Throws<PortalValidationException>(() =>
            TenantRules.Validate("", new string('d', TenantRules.DescriptionMaxLength + 1), new TenantQuota { Vms = -1 }));

        Assert.Equal(["Description", "Name", nameof(TenantQuota.Vms)], error.Errors.Keys.Order(StringComparer.Ordinal));
    }
}
