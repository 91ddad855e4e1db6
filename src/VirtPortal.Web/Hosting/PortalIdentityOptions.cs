using System.ComponentModel.DataAnnotations;

namespace VirtPortal.Web.Hosting;

public sealed class PortalIdentityOptions
{
    public const string Section = "Identity";

    /// <summary>
    /// How often an open session re-checks the user's security stamp and lockout. Locking a user or
    /// removing a role ends their open circuits within this time.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00", ErrorMessage = "Identity:RevalidationInterval must be between 1 second and 1 minute.")]
    public TimeSpan RevalidationInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Whether anyone may create an account at /Account/Register.</summary>
    public bool AllowSelfRegistration { get; set; }

    [Range(typeof(TimeSpan), "00:05:00", "30.00:00:00", ErrorMessage = "Identity:InviteLinkLifetime must be between 5 minutes and 30 days.")]
    public TimeSpan InviteLinkLifetime { get; set; } = TimeSpan.FromDays(3);
}
