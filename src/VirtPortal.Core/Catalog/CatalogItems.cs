namespace VirtPortal.Core.Catalog;

/// <summary>A machine image teams can ask for. Disabling it hides it from new requests only.</summary>
public sealed class VmTemplate
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    public string Description { get; set; } = "";

    /// <summary>What users see of the operating system ("Debian 12").</summary>
    public string OsLabel { get; set; } = "";

    /// <summary>What the hypervisor adapter uses to find the base image (a volume name or path).</summary>
    public string ImageRef { get; set; } = "";

    public int DefaultLeaseDays { get; set; } = 30;

    public decimal HourlyPrice { get; set; }

    public bool Enabled { get; set; } = true;

    /// <summary>Moves with every change of the item (the API's ETag and If-Match).</summary>
    public long Version { get; set; } = 1;

    /// <summary>Sizes this template may run at; empty means every enabled size.</summary>
    public List<VmSize> AllowedSizes { get; set; } = [];
}

public sealed class VmSize
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    public int VCpus { get; set; }

    public int RamMiB { get; set; }

    public int DiskGiB { get; set; }

    public decimal HourlyPrice { get; set; }

    public bool Enabled { get; set; } = true;

    /// <summary>Moves with every change of the item (the API's ETag and If-Match).</summary>
    public long Version { get; set; } = 1;

    public List<VmTemplate> Templates { get; set; } = [];
}

public enum DatabaseEngineKind
{
    PostgreSql = 0,
    Sqlite = 1,
}

public sealed class DatabaseOffering
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    public string Description { get; set; } = "";

    public DatabaseEngineKind Engine { get; set; }

    public int StorageGiB { get; set; }

    public int ConnectionLimit { get; set; }

    public int DefaultLeaseDays { get; set; } = 30;

    public decimal HourlyPrice { get; set; }

    public bool Enabled { get; set; } = true;

    /// <summary>Moves with every change of the item (the API's ETag and If-Match).</summary>
    public long Version { get; set; } = 1;
}

public static class Showback
{
    /// <summary>Hours in an average month (365 × 24 / 12), the basis of every monthly figure.</summary>
    public const decimal HoursPerMonth = 730m;

    public static decimal Monthly(decimal hourly) => decimal.Round(hourly * HoursPerMonth, 2);
}
