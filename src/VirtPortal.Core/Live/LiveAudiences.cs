using VirtPortal.Core.Access;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Live;

/// <summary>What a live message is about, and so which permission decides who hears it.</summary>
public enum LiveTopic
{
    Resources,
    Requests,
    Hosts,
    Drift,
    DatabaseServers,
}

/// <summary>
/// One group of listeners: those who may see <see cref="Topic"/> in one tenant, or in every tenant when
/// <see cref="TenantId"/> is null (staff, and the portal-wide topics). <see cref="Name"/> is the SignalR group.
/// </summary>
public sealed record LiveAudience(LiveTopic Topic, Guid? TenantId)
{
    public string Name => TenantId is { } id ? $"{Topic.ToString().ToLowerInvariant()}:{id}" : $"{Topic.ToString().ToLowerInvariant()}:all";

    /// <summary>The permission <see cref="AccessRules"/> asks for a topic: the one place that pairs them.</summary>
    public static Permission PermissionOf(LiveTopic topic) => topic switch
    {
        LiveTopic.Resources => Permission.ResourceView,
        LiveTopic.Requests => Permission.RequestView,
        LiveTopic.Hosts => Permission.HostsManage,
        LiveTopic.Drift => Permission.DriftManage,
        LiveTopic.DatabaseServers => Permission.DatabaseServersManage,
        _ => throw new ArgumentOutOfRangeException(nameof(topic), topic, null),
    };

    /// <summary>
    /// The audiences a message goes to: its tenant's and the every-tenant one for tenant messages, the
    /// every-tenant one for portal-wide messages. Empty for messages addressed otherwise (a user's
    /// notification, a resource's metrics).
    /// </summary>
    public static IReadOnlyList<LiveAudience> Of(LiveMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        LiveTopic? topic = message switch
        {
            ResourceChanged => LiveTopic.Resources,
            RequestChanged => LiveTopic.Requests,
            HostChanged or HostSampled => LiveTopic.Hosts,
            DriftChanged => LiveTopic.Drift,
            DatabaseServerChanged => LiveTopic.DatabaseServers,
            _ => null,
        };
        if (topic is not { } t)
            return [];
        return message.TenantId is { } tenant ? [new LiveAudience(t, tenant), new LiveAudience(t, null)] : [new LiveAudience(t, null)];
    }
}

/// <summary>
/// Who hears which live messages, decided by the access table: for each topic, every tenant when the table
/// lets the actor see it on the portal target (staff), else each tenant the actor belongs to and may see it
/// in (<see cref="PortalAccess.ScopeAsync"/>, which knows a token limited to one tenant). A listener is in at most one audience per topic and tenant, so it never gets a message twice.
/// </summary>
public sealed class LiveAudiences(PortalAccess access)
{
    private static readonly LiveTopic[] TenantTopics = [LiveTopic.Resources, LiveTopic.Requests];
    private static readonly LiveTopic[] PortalTopics = [LiveTopic.Hosts, LiveTopic.Drift, LiveTopic.DatabaseServers];

    [Requires(Permission.SignedIn)]
    public async Task<IReadOnlySet<LiveAudience>> ForAsync(Actor actor, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await access.RequireAsync(actor, Permission.SignedIn, AccessTarget.Portal, "listen to live updates", ct);
        var audiences = new HashSet<LiveAudience>();
        foreach (var topic in TenantTopics)
        {
            var scope = await access.ScopeAsync(actor, LiveAudience.PermissionOf(topic), ct);
            if (scope.All)
                audiences.Add(new LiveAudience(topic, null));
            else
                audiences.UnionWith(scope.TenantIds.Select(tenantId => new LiveAudience(topic, tenantId)));
        }

        foreach (var topic in PortalTopics)
        {
            if (await access.AllowsAsync(actor, LiveAudience.PermissionOf(topic), AccessTarget.Portal, ct))
                audiences.Add(new LiveAudience(topic, null));
        }

        return audiences;
    }
}
