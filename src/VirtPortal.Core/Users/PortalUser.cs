using Microsoft.AspNetCore.Identity;

namespace VirtPortal.Core.Users;

public sealed class PortalUser : IdentityUser
{
    public string DisplayName { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The tenant the user last switched to; the home page shows it first.</summary>
    public Guid? CurrentTenantId { get; set; }

    public bool PrefersDarkMode { get; set; }

    /// <summary>A label for pages: the display name, or the email when none was given.</summary>
    public string Label => string.IsNullOrWhiteSpace(DisplayName) ? Email ?? UserName ?? Id : DisplayName;
}
