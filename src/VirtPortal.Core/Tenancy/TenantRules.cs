using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Common;

namespace VirtPortal.Core.Tenancy;

/// <summary>Input rules for tenants, shared by the forms (as-you-type) and the services (authoritative).</summary>
public static class TenantRules
{
    public const int NameMinLength = 2;
    public const int NameMaxLength = 64;
    public const int DescriptionMaxLength = 500;

    public const int MaxVCpus = 4096;
    public const int MaxRamMiB = 16 * 1024 * 1024;
    public const int MaxDiskGiB = 1024 * 1024;
    public const int MaxVms = 10_000;
    public const int MaxDatabases = 10_000;

    /// <summary>The trimmed name, or a message saying what is wrong with it.</summary>
    public static string? NameError(string? name)
    {
        var trimmed = name?.Trim() ?? "";
        if (trimmed.Length == 0)
            return "Enter a name for the tenant.";
        if (trimmed.Length < NameMinLength)
            return $"A tenant name has at least {NameMinLength} characters.";
        if (trimmed.Length > NameMaxLength)
            return $"A tenant name has at most {NameMaxLength} characters.";
        if (trimmed.Any(char.IsControl))
            return "A tenant name cannot contain control characters.";
        return null;
    }

    public static string? DescriptionError(string? description) =>
        (description?.Trim().Length ?? 0) > DescriptionMaxLength
            ? $"A description has at most {DescriptionMaxLength} characters."
            : null;

    /// <summary>Messages keyed by the quota field they belong to; empty when the quota is valid.</summary>
    public static Dictionary<string, string[]> QuotaErrors(TenantQuota quota)
    {
        ArgumentNullException.ThrowIfNull(quota);
        var errors = new Dictionary<string, string[]>();
        Check(nameof(TenantQuota.VCpus), quota.VCpus, MaxVCpus, "vCPUs");
        Check(nameof(TenantQuota.RamMiB), quota.RamMiB, MaxRamMiB, "MiB of RAM");
        Check(nameof(TenantQuota.DiskGiB), quota.DiskGiB, MaxDiskGiB, "GiB of disk");
        Check(nameof(TenantQuota.Vms), quota.Vms, MaxVms, "VMs");
        Check(nameof(TenantQuota.Databases), quota.Databases, MaxDatabases, "databases");
        return errors;

        void Check(string field, int value, int max, string unit)
        {
            if (value < 0)
                errors[field] = [$"A quota cannot be negative (use 0 to allow no {unit})."];
            else if (value > max)
                errors[field] = [$"At most {max:N0} {unit}."];
        }
    }

    /// <summary>Validates a whole tenant form; throws with every message at once.</summary>
    public static void Validate(string? name, string? description, TenantQuota? quota)
    {
        var errors = quota is null ? [] : QuotaErrors(quota);
        if (NameError(name) is { } nameError)
            errors["Name"] = [nameError];
        if (DescriptionError(description) is { } descriptionError)
            errors["Description"] = [descriptionError];
        if (errors.Count > 0)
            throw new PortalValidationException(errors);
    }

    /// <summary>How a stale change of a tenant's settings names it ("The tenant changed since you read it …", 412 in the API).</summary>
    public const string VersionedName = "The tenant";

    /// <summary>Refuses a change made against another version than the tenant has (an If-Match the API was sent).</summary>
    public static void RequireVersion(Tenant tenant, long? expectedVersion)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        PortalConcurrencyException.ThrowIfStale(expectedVersion, tenant.Version, VersionedName);
    }

    /// <summary>Saves a versioned change; one saved meanwhile by someone else (the version moved under it) is refused as stale.</summary>
    public static Task SaveVersionedAsync(Func<Task> save) => PortalConcurrencyException.SaveVersionedAsync(save, VersionedName);
}
