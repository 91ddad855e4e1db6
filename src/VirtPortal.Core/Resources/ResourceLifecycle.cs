using VirtPortal.Core.Provisioning;

namespace VirtPortal.Core.Resources;

/// <summary>
/// Which actions a resource's state offers: the one place the UI (which buttons show) and the server
/// (which requests it accepts) both ask. The words are libvirt's; <see cref="Label"/> gives cockpit's.
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
