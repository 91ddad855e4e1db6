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

/// <summary>Demo mode seeds tenants and one user per role, and lists them on the sign-in page.</summary>
public sealed class DemoOptions
{
    public const string Section = "Demo";

    /// <summary>On in Development, off otherwise, unless configured.</summary>
    public bool? Enabled { get; set; }

    [Required, MinLength(12)]
    public string Password { get; set; } = "virtportal-demo";

    public bool IsEnabled => Enabled == true;
}
