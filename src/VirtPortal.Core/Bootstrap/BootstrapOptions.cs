using System.ComponentModel.DataAnnotations;

namespace VirtPortal.Core.Bootstrap;

/// <summary>The first admin, created once when no admin exists.</summary>
public sealed class BootstrapOptions
{
    public const string Section = "Bootstrap";

    [Required, EmailAddress]
    public string AdminEmail { get; set; } = "admin@virtportal.local";

    /// <summary>When empty, a strong password is generated and written once to the log.</summary>
    public string? AdminPassword { get; set; }
}
