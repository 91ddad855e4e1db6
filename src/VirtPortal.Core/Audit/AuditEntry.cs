namespace VirtPortal.Core.Audit;

/// <summary>One thing that happened, who did it and to what. Written in the same transaction as the change.</summary>
public sealed class AuditEntry
{
    public long Id { get; set; }

    public DateTimeOffset At { get; set; }

    public required string ActorId { get; set; }

    public required string ActorName { get; set; }

    public required string Action { get; set; }

    public Guid? TenantId { get; set; }

    /// <summary>What was acted on, in words ("user ada@example.com", "tenant Acme").</summary>
    public string Target { get; set; } = "";

    public string Details { get; set; } = "";
}

/// <summary>Audit action names; one constant each so that filters and tests agree.</summary>
public static class AuditActions
{
    public const string AdminBootstrapped = "admin.bootstrapped";
    public const string AccessDenied = "access.denied";
    public const string TenantCreated = "tenant.created";
    public const string TenantRenamed = "tenant.renamed";
    public const string TenantArchived = "tenant.archived";
    public const string TenantRestored = "tenant.restored";
    public const string QuotaChanged = "tenant.quota-changed";
    public const string MemberAdded = "tenant.member-added";
    public const string MemberRemoved = "tenant.member-removed";
    public const string MemberRoleChanged = "tenant.member-role-changed";
    public const string UserCreated = "user.created";
    public const string UserInviteIssued = "user.invite-issued";
    public const string UserPasswordSet = "user.password-set";
    public const string UserRolesChanged = "user.roles-changed";
    public const string UserLocked = "user.locked";
    public const string UserUnlocked = "user.unlocked";
    public const string DemoSeeded = "demo.seeded";
    public const string CatalogTemplateSaved = "catalog.template-saved";
    public const string CatalogSizeSaved = "catalog.size-saved";
    public const string CatalogOfferingSaved = "catalog.offering-saved";
    public const string CatalogItemEnabled = "catalog.item-enabled";
    public const string CatalogItemDisabled = "catalog.item-disabled";
    public const string HostRegistered = "host.registered";
    public const string HostUpdated = "host.updated";
    public const string HostTested = "host.tested";
    public const string HostMaintenanceStarted = "host.maintenance-started";
    public const string HostMaintenanceEnded = "host.maintenance-ended";
    public const string HostRemoved = "host.removed";
}
