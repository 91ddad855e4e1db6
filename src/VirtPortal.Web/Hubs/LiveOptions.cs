using System.ComponentModel.DataAnnotations;

namespace VirtPortal.Web.Hubs;

/// <summary>Settings of the live hub at <see cref="LiveHub.Path"/>, bound from the <c>Live</c> section.</summary>
public sealed class LiveOptions : IValidatableObject
{
    public const string Section = "Live";

    /// <summary>
    /// Browser origins, besides the portal's own, whose pages may connect ("https://ops.example.com").
    /// A request without an Origin header (a script, not a browser) is not affected.
    /// </summary>
    public IList<string> AllowedOrigins { get; } = [];

    /// <summary>
    /// How often every open connection is checked again: a locked, deleted or changed account is
    /// disconnected, and lost memberships and metric subscriptions leave their groups.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00", ErrorMessage = "Live:RevalidationInterval must be between 100 ms and 1 minute.")]
    public TimeSpan RevalidationInterval { get; set; } = TimeSpan.FromSeconds(30);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var origin in AllowedOrigins)
        {
            if (LiveOriginCheck.Normalize(origin) is null)
                yield return new ValidationResult($"Live:AllowedOrigins: \"{origin}\" is not an origin such as https://portal.example.com.", [nameof(AllowedOrigins)]);
        }
    }
}
