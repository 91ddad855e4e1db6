using System.ComponentModel.DataAnnotations;

namespace VirtPortal.Core.Leases;

public sealed class LeaseOptions
{
    public const string Section = "Leases";

    /// <summary>How many days before a lease ends its tenant is warned.</summary>
    [Range(0, 90, ErrorMessage = "Leases:WarningDays must be between 0 and 90.")]
    public int WarningDays { get; set; } = 3;

    /// <summary>How long an expired (stopped) resource is kept before it is deleted.</summary>
    [Range(0, 365, ErrorMessage = "Leases:GraceDays must be between 0 and 365.")]
    public int GraceDays { get; set; } = 7;
}
