using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Requests;

namespace VirtPortal.Core.Audit;

/// <summary>
/// Every audit action name the portal writes, one constant each, so that filters, tests and the
/// REST API agree. Names made from a state or an action come from the functions at the end.
/// </summary>
public static class AuditActions
{
    public const string AdminBootstrapped = "admin.bootstrapped";
    public const string AccessDenied = "access.denied";
    public const string DemoSeeded = "demo.seeded";

    // Tenants and their members.
    public const string TenantCreated = "tenant.created";
    public const string TenantRenamed = "tenant.renamed";
    public const string TenantArchived = "tenant.archived";
    public const string TenantRestored = "tenant.restored";
    public const string QuotaChanged = "tenant.quota-changed";
    public const string PolicyChanged = "tenant.policy-changed";
    public const string MemberAdded = "tenant.member-added";
    public const string MemberRemoved = "tenant.member-removed";
    public const string MemberRoleChanged = "tenant.member-role-changed";

    // Users.
    public const string UserCreated = "user.created";
    public const string UserInviteIssued = "user.invite-issued";
    public const string UserPasswordSet = "user.password-set";
    public const string UserRolesChanged = "user.roles-changed";
    public const string UserLocked = "user.locked";
    public const string UserUnlocked = "user.unlocked";

    // The catalog.
    public const string CatalogTemplateSaved = "catalog.template-saved";
    public const string CatalogSizeSaved = "catalog.size-saved";
    public const string CatalogOfferingSaved = "catalog.offering-saved";
    public const string CatalogItemEnabled = "catalog.item-enabled";
    public const string CatalogItemDisabled = "catalog.item-disabled";

    // Hosts.
    public const string HostRegistered = "host.registered";
    public const string HostUpdated = "host.updated";
    public const string HostTested = "host.tested";
    public const string HostMaintenanceStarted = "host.maintenance-started";
    public const string HostMaintenanceEnded = "host.maintenance-ended";
    public const string HostRemoved = "host.removed";
    public const string HostUnreachable = "host.unreachable";

    // Database servers (their admin connections never appear in an entry).
    public const string DatabaseServerRegistered = "database-server.registered";
    public const string DatabaseServerUpdated = "database-server.updated";
    public const string DatabaseServerTested = "database-server.tested";
    public const string DatabaseServerMaintenanceStarted = "database-server.maintenance-started";
    public const string DatabaseServerMaintenanceEnded = "database-server.maintenance-ended";
    public const string DatabaseServerRemoved = "database-server.removed";

    // Drift between the portal and its hosts.
    public const string DriftDetected = "drift.detected";
    public const string DatabaseBackupExpired = "database.backup-expired";
    public const string DriftResolved = "drift.resolved";

    // Requests (their state moves are named by RequestMovedTo).
    public const string RequestSubmitted = "request.submitted";
    public const string RequestStageApproved = "request.stage-approved";
    public const string RequestEscalated = "request.escalated";

    // Resources (the actions members ask for are named by ResourceAction).
    public const string ResourcePlaced = "resource.placed";
    public const string ResourceLeaseWarning = "resource.lease-warning";
    public const string ResourceExpired = "resource.expired";
    public const string ResourceLeaseDeleted = "resource.lease-deleted";

    // Databases: what their owners took from them (never the password itself).
    public const string DatabasePasswordRevealed = "database.password-revealed";
    public const string DatabaseBackupDownloaded = "database.backup-downloaded";
    public const string DatabaseFileDownloaded = "database.file-downloaded";
    public const string DatabaseFileReplaced = "database.file-replaced";

    // VM consoles: each session's start and end (user, VM, duration, bytes each way) and each refused
    // handshake with its reason (never the ticket).
    public const string ConsoleStarted = "console.started";
    public const string ConsoleEnded = "console.ended";
    public const string ConsoleRefused = "console.refused";

    // Personal API tokens (never their secrets).
    public const string TokenCreated = "token.created";
    public const string TokenRevoked = "token.revoked";

    // Webhook subscriptions (never their secrets).
    public const string WebhookCreated = "webhook.created";
    public const string WebhookChanged = "webhook.changed";
    public const string WebhookSecretRotated = "webhook.secret-rotated";
    public const string WebhookDeleted = "webhook.deleted";
    public const string WebhookTestSent = "webhook.test-sent";
    public const string WebhookRedelivered = "webhook.redelivered";
    public const string WebhookFailing = "webhook.failing";

    // The provisioning worker's operations.
    public const string OperationStarted = "operation.started";
    public const string OperationTakenOver = "operation.taken-over";
    public const string OperationReclaimed = "operation.reclaimed";
    public const string OperationRetry = "operation.retry";
    public const string OperationSucceeded = "operation.succeeded";
    public const string OperationFailed = "operation.failed";

    /// <summary>A request entering <paramref name="state"/>: "request.approved", "request.pendingapproval" …</summary>
    public static string RequestMovedTo(RequestState state) => "request." + state.ToString().ToLowerInvariant();

    /// <summary>A member asking for <paramref name="action"/> on a resource: "resource.start", "resource.delete" …</summary>
    public static string ResourceAction(OperationKind action) => "resource." + action.ToString().ToLowerInvariant();
}
