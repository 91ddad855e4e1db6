namespace VirtPortal.Core.Users;

/// <summary>
/// Who is acting: built by the web host from the signed-in principal, or by a background service.
/// Services take it explicitly so that authorization never depends on an HTTP request.
/// </summary>
public sealed record Actor(string UserId, string Name, IReadOnlySet<string> Roles)
{
    /// <summary>
    /// The API token the user acts through, if any: the access table decides as for the user, then the
    /// token's scope narrows the answer (one tenant, read-only).
    /// </summary>
    public Tokens.TokenScope? Token { get; init; }

    /// <summary>
    /// The same actor, reading: a read-only token's scope without its refusal of changes, to list what the user
    /// could act on (an approval inbox) without acting.
    /// </summary>
    public Actor ForReading() => Token is { ReadOnly: true } token ? this with { Token = token with { ReadOnly = false } } : this;

    public bool IsAdmin => Roles.Contains(GlobalRoles.Admin);

    public bool IsApprover => Roles.Contains(GlobalRoles.Approver);

    public bool IsHelpdesk => Roles.Contains(GlobalRoles.Helpdesk);

    /// <summary>Admins, approvers and helpdesk see every tenant.</summary>
    public bool IsStaff => IsAdmin || IsApprover || IsHelpdesk;

    /// <summary>The portal itself (first-run bootstrap, demo seeding).</summary>
    public static Actor System { get; } = new("system", "system", new HashSet<string> { GlobalRoles.Admin });
}
