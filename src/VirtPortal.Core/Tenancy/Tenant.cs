namespace VirtPortal.Core.Tenancy;

public sealed class Tenant
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    public string Description { get; set; } = "";

    public TenantQuota Quota { get; set; } = new();

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Archived tenants keep their history but leave every member's view.</summary>
    public DateTimeOffset? ArchivedAt { get; set; }

    public bool IsArchived => ArchivedAt is not null;

    /// <summary>Bumped by every change of its settings (name, description, quota, archive, approval policy): the API's ETag, and the concurrency token its changes are saved against.</summary>
    public long Version { get; set; } = 1;

    public List<TenantMembership> Memberships { get; set; } = [];
}

/// <summary>The most a tenant may hold at once, per dimension. Zero means none allowed.</summary>
public sealed record TenantQuota
{
    public int VCpus { get; init; }

    public int RamMiB { get; init; }

    public int DiskGiB { get; init; }

    public int Vms { get; init; }

    public int Databases { get; init; }

    /// <summary>What a new tenant gets unless the admin says otherwise.</summary>
    public static TenantQuota Default => new() { VCpus = 16, RamMiB = 32768, DiskGiB = 500, Vms = 10, Databases = 5 };
}

public enum TenantRole
{
    Member = 0,
    Owner = 1,
}

public sealed class TenantMembership
{
    public Guid TenantId { get; set; }

    public Tenant? Tenant { get; set; }

    public required string UserId { get; set; }

    public TenantRole Role { get; set; }

    public DateTimeOffset AddedAt { get; set; }
}
