namespace VirtPortal.Core.Users;

/// <summary>Portal-wide roles, stored as ASP.NET Core Identity roles.</summary>
public static class GlobalRoles
{
    public const string Admin = "Admin";
    public const string Approver = "Approver";
    public const string Helpdesk = "Helpdesk";

    public static IReadOnlyList<string> All { get; } = [Admin, Approver, Helpdesk];

    /// <summary>Staff see every tenant (read-only unless also Admin).</summary>
    public const string StaffRoles = Admin + "," + Approver + "," + Helpdesk;

    public static bool IsKnown(string role) => All.Contains(role, StringComparer.Ordinal);
}
