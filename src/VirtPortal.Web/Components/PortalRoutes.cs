namespace VirtPortal.Web.Components;

/// <summary>Every app route in one place, so links and tests agree.</summary>
public static class PortalRoutes
{
    public const string Home = "/";
    public const string Tenants = "/tenants";
    public const string AdminUsers = "/admin/users";
    public const string AdminCatalog = "/admin/catalog";
    public const string AdminHosts = "/admin/hosts";
    public const string AdminDatabaseServers = "/admin/database-servers";
    public const string Audit = "/audit";
    public const string Wall = "/wall";
    public const string Login = "/Account/Login";
    public const string ChangePassword = "/Account/Manage/ChangePassword";
    public const string Tokens = "/tokens";
    public const string Webhooks = Core.Webhooks.WebhookRoutes.List;

    /// <summary>The REST API's interactive reference (Scalar), over the OpenAPI document at <see cref="OpenApiDocument"/>.</summary>
    public const string ApiReference = "/api";
    public const string OpenApiDocument = "/openapi/v1.json";

    public static string Tenant(Guid id) => $"/tenants/{id}";

    public static string Vm(Guid id) => $"/vms/{id}";

    /// <summary>The VM's console websocket (the proxy); its ticket travels as a subprotocol, never in this URL.</summary>
    public static string Console(Guid id) => $"/console/{id}";

    public const string DatabasesBase = "/databases";

    public static string Database(Guid id) => $"{DatabasesBase}/{id}";

    public static string DatabaseBackupFile(Guid id, Guid backupId) => $"{DatabasesBase}/{id}/backups/{backupId}/file";

    public static string DatabaseFile(Guid id) => $"{DatabasesBase}/{id}/file";

    /// <summary>The request form for a new database restored from <paramref name="backupId"/>.</summary>
    public static string RestoreBackup(Guid tenantId, Guid backupId, Guid? offeringId) =>
        $"/requests/new?tenant={tenantId}&kind=newdatabase&backup={backupId}" + (offeringId is { } o ? $"&offering={o}" : "");

    public static string Webhook(Guid id) => Core.Webhooks.WebhookRoutes.Subscription(id);

    public static string AdminUser(string id) => $"/admin/users/{Uri.EscapeDataString(id)}";
}
