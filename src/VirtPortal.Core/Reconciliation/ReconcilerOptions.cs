using System.ComponentModel.DataAnnotations;

namespace VirtPortal.Core.Reconciliation;

public sealed class ReconcilerOptions
{
    public const string Section = "Reconciler";

    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Reconciler:Interval must be between 1 second and 1 hour.")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(15);
}
