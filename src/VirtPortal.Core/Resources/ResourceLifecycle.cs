using VirtPortal.Core.Provisioning;

namespace VirtPortal.Core.Resources;

/// <summary>
/// A resource's lifecycle in one place: which actions its state offers (the UI's buttons and the
/// server's checks both ask here), how a hypervisor's state reads as a resource state, and every change
/// of <see cref="Resource.State"/> after creation, each of which bumps the version live clients follow.
/// The words are libvirt's; <see cref="Label"/> gives cockpit's.
/// </summary>
public static class ResourceLifecycle
{
    public static readonly OperationKind[] UserActions =
        [OperationKind.Start, OperationKind.Shutdown, OperationKind.ForceOff, OperationKind.Reboot, OperationKind.Suspend, OperationKind.Resume, OperationKind.Delete];

    public static bool CanStart(ResourceState s) => s is ResourceState.Shutoff or ResourceState.Crashed;

    public static bool CanShutdown(ResourceState s) => s is ResourceState.Running;

    public static bool CanForceOff(ResourceState s) => s is ResourceState.Running or ResourceState.Paused or ResourceState.Crashed or ResourceState.PMSuspended or ResourceState.Unknown;

    public static bool CanReboot(ResourceState s) => s is ResourceState.Running;

    public static bool CanSuspend(ResourceState s) => s is ResourceState.Running;

    public static bool CanResume(ResourceState s) => s is ResourceState.Paused or ResourceState.PMSuspended;

    public static bool CanDelete(ResourceState s) => s is not (ResourceState.Deleting or ResourceState.Deleted);

    public static bool Can(OperationKind action, ResourceKind kind, ResourceState state) => action switch
    {
        // Databases are created and deleted; their power actions come with the database engine adapter.
        _ when kind == ResourceKind.Database => action == OperationKind.Delete && CanDelete(state),
        OperationKind.Start => CanStart(state),
        OperationKind.Shutdown => CanShutdown(state),
        OperationKind.ForceOff => CanForceOff(state),
        OperationKind.Reboot => CanReboot(state),
        OperationKind.Suspend => CanSuspend(state),
        OperationKind.Resume => CanResume(state),
        OperationKind.Delete => CanDelete(state),
        _ => false,
    };

    /// <summary>libvirt's name for the domain: "vp-" and the random tail of the resource id.</summary>
    public static string DomainName(Resource resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return "vp-" + resource.Id.ToString("N")[20..];
    }

    /// <summary>The resource state a hypervisor's domain state stands for.</summary>
    public static ResourceState StateOf(DomainState state) => state switch
    {
        DomainState.Running => ResourceState.Running,
        DomainState.Paused => ResourceState.Paused,
        DomainState.Shutoff => ResourceState.Shutoff,
        DomainState.Crashed => ResourceState.Crashed,
        DomainState.PMSuspended => ResourceState.PMSuspended,
        _ => ResourceState.Unknown,
    };

    /// <summary>What the host should show for a record in <paramref name="state"/>: an expired resource is a stopped one.</summary>
    public static ResourceState ExpectedOnHost(ResourceState state) => state == ResourceState.Expired ? ResourceState.Shutoff : state;

    /// <summary>
    /// The host reports <paramref name="reported"/>: the record takes it, unless the record already means
    /// it (an expired resource stays Expired while it is stopped; only a lease extension brings it back).
    /// </summary>
    public static void Observe(Resource resource, ResourceState reported)
    {
        ArgumentNullException.ThrowIfNull(resource);
        MoveTo(resource, ExpectedOnHost(resource.State) == reported ? resource.State : reported);
    }

    /// <summary>A delete was asked for (by a member or by the lease's end): the resource is on its way out.</summary>
    public static void BeginDelete(Resource resource) => MoveTo(resource, ResourceState.Deleting);

    /// <summary>The lease ended at <paramref name="now"/>: Expired, stopped, and deleted after the grace period.</summary>
    public static void Expire(Resource resource, DateTimeOffset now)
    {
        MoveTo(resource, ResourceState.Expired);
        resource.ExpiredAt = now;
    }

    /// <summary>A lease extension brings an expired resource back stopped: the expiry shut it down, and it stays down until someone starts it.</summary>
    public static void Unexpire(Resource resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        if (resource.State != ResourceState.Expired)
            return;
        MoveTo(resource, ResourceState.Shutoff);
        resource.ExpiredAt = null;
    }

    /// <summary>Its create failed: nothing of it is left on a host.</summary>
    public static void Fail(Resource resource) => MoveTo(resource, ResourceState.Failed);

    /// <summary>Something else about the resource changed (lease, size, drift resolution): live clients reload it.</summary>
    public static void Touch(Resource resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        resource.Version++;
    }

    private static void MoveTo(Resource resource, ResourceState state)
    {
        ArgumentNullException.ThrowIfNull(resource);
        resource.State = state;
        resource.Version++;
    }

    /// <summary>cockpit-machines' plain words for the UI.</summary>
    public static string Label(OperationKind action) => action switch
    {
        OperationKind.Start => "Run",
        OperationKind.Shutdown => "Shut down",
        OperationKind.ForceOff => "Force shut down",
        OperationKind.Reboot => "Reboot",
        OperationKind.Suspend => "Pause",
        OperationKind.Resume => "Resume",
        OperationKind.Delete => "Delete",
        OperationKind.Create => "Create",
        OperationKind.Resize => "Resize",
        _ => action.ToString(),
    };
}
