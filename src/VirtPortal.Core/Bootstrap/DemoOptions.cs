using System.ComponentModel.DataAnnotations;

namespace VirtPortal.Core.Bootstrap;

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
