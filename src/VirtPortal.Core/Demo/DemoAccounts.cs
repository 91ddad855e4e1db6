using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Demo;

public sealed record DemoAccount(string Email, string DisplayName, string Description, string? GlobalRole, params (string Tenant, TenantRole Role)[] Memberships);

/// <summary>What demo mode seeds; the sign-in page lists the same accounts.</summary>
public static class DemoAccounts
{
    public const string AcmeTenant = "Acme Research";
    public const string GlobexTenant = "Globex Platform";

    public static IReadOnlyList<string> Tenants { get; } = [AcmeTenant, GlobexTenant];

    public static IReadOnlyList<DemoAccount> All { get; } =
    [
        new("member@demo.virtportal.local", "Mia Member", "Tenant member of Acme Research", null, (AcmeTenant, TenantRole.Member)),
        new("owner@demo.virtportal.local", "Owen Owner", "Owner of Acme Research, member of Globex Platform", null,
            (AcmeTenant, TenantRole.Owner), (GlobexTenant, TenantRole.Member)),
        new("approver@demo.virtportal.local", "April Approver", "Approver", GlobalRoles.Approver),
        new("helpdesk@demo.virtportal.local", "Hal Helpdesk", "Helpdesk (read-only, all tenants)", GlobalRoles.Helpdesk),
        new("admin@demo.virtportal.local", "Ada Admin", "Administrator", GlobalRoles.Admin),
    ];
}
