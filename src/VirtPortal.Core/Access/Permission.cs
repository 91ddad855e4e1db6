namespace VirtPortal.Core.Access;

/// <summary>
/// Everything the portal lets someone do, by what it is done to. <see cref="AccessRules"/> is the one
/// table that says who may; docs/decisions/0006-one-access-layer.md explains it.
/// </summary>
public enum Permission
{
    /// <summary>Anyone signed in, acting on their own things (notifications, preferences, home page); lists are filtered to what they may view.</summary>
    SignedIn,

    /// <summary>See a tenant, its quota, members, policy, resources and requests.</summary>
    TenantView,

    /// <summary>Submit requests (VMs, databases, resizes, lease extensions, quota increases) for a tenant.</summary>
    TenantRequest,

    /// <summary>Add, remove and change the role of a tenant's members.</summary>
    TenantManageMembers,

    /// <summary>Create, rename and archive tenants; set their quotas and approval policies.</summary>
    TenantAdminister,

    /// <summary>See a resource, its state and charts.</summary>
    ResourceView,

    /// <summary>Start, shut down, force off, reboot, pause, resume and delete a resource.</summary>
    ResourceOperate,

    /// <summary>Open a resource's console with keyboard and mouse.</summary>
    ResourceConsole,

    /// <summary>Watch a resource's console without sending input.</summary>
    ResourceConsoleViewOnly,

    /// <summary>See a request, its timeline and its pre-flight facts.</summary>
    RequestView,

    /// <summary>Withdraw a request that is still open.</summary>
    RequestCancel,

    /// <summary>Approve or reject a request (on the portal: open the approval inbox).</summary>
    RequestDecide,

    /// <summary>Open the audit log at all: read some part of it.</summary>
    AuditOpen,

    /// <summary>Read audit entries: on the portal every entry, on a tenant that tenant's.</summary>
    AuditRead,

    /// <summary>Read the enabled catalog items, to request from them.</summary>
    CatalogReadEnabled,

    /// <summary>Read every catalog item, disabled ones included.</summary>
    CatalogReadAll,

    /// <summary>Create, change, enable and disable catalog items.</summary>
    CatalogEdit,

    /// <summary>List, register, change, test, maintain and remove hypervisor hosts.</summary>
    HostsManage,

    /// <summary>List, register, change, test, maintain and remove database servers (their admin connections stay hidden).</summary>
    DatabaseServersManage,

    /// <summary>See and settle drift between the portal and its hosts.</summary>
    DriftManage,

    /// <summary>List, create, invite, lock and change the roles of users.</summary>
    UsersManage,

    /// <summary>Create and revoke one's own personal API tokens (listing them is <see cref="SignedIn"/>).</summary>
    ApiTokensManage,

    /// <summary>See webhook subscriptions and their delivery logs (never their secrets): on the portal every one, on a tenant that tenant's.</summary>
    WebhooksView,

    /// <summary>Create, change, test, redeliver and delete webhook subscriptions: on the portal the portal-wide ones, on a tenant that tenant's.</summary>
    WebhooksManage,
}

/// <summary>What a permission is asked about.</summary>
public enum AccessTargetKind
{
    Portal,
    Tenant,
    Resource,
    Request,
}

/// <summary>The thing an actor asks to act on; <see cref="Portal"/> for portal-wide permissions.</summary>
public sealed record AccessTarget(AccessTargetKind Kind, Guid Id)
{
    public static AccessTarget Portal { get; } = new(AccessTargetKind.Portal, Guid.Empty);

    public static AccessTarget Tenant(Guid id) => new(AccessTargetKind.Tenant, id);

    public static AccessTarget Resource(Guid id) => new(AccessTargetKind.Resource, id);

    public static AccessTarget Request(Guid id) => new(AccessTargetKind.Request, id);

    /// <summary>The target in the audit log's words ("tenant 0193…", "portal").</summary>
    public override string ToString() => Kind == AccessTargetKind.Portal ? "portal" : $"{Kind.ToString().ToLowerInvariant()} {Id}";
}

/// <summary>
/// Marks a public service method that takes an actor with the permission it asks the access service
/// for, and on what. The access tests find every such method by reflection and call it as each actor
/// the table refuses; a method that takes an actor without this attribute fails them.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RequiresAttribute(Permission permission, AccessTargetKind target = AccessTargetKind.Portal) : Attribute
{
    public Permission Permission { get; } = permission;

    public AccessTargetKind Target { get; } = target;
}
