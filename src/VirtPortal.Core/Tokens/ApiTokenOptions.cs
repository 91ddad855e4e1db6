using System.ComponentModel.DataAnnotations;

namespace VirtPortal.Core.Tokens;

public sealed class ApiTokenOptions
{
    public const string Section = "Api";

    /// <summary>The longest a personal API token may live; a user picks an expiry up to this.</summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00", ErrorMessage = "Api:MaxTokenLifetime must be between 1 day and 3650 days.")]
    public TimeSpan MaxTokenLifetime { get; set; } = TimeSpan.FromDays(365);
}
