namespace VirtPortal.Core.Provisioning;

/// <summary>Why an operation failed, in the classes a member is told about.</summary>
public enum FailureKind
{
    None = 0,

    /// <summary>The host answered and said no (permissions, configuration, a conflict with the domain's state).</summary>
    HostRefused = 1,

    /// <summary>The host did not answer, even after the retries.</summary>
    HostUnreachable = 2,

    /// <summary>Placement found no host with room.</summary>
    NoCapacity = 3,

    /// <summary>The host took longer than the portal waits, or the guest never reached the state asked for.</summary>
    TimedOut = 4,
}

/// <summary>
/// A failure as the portal records it: its class, the plain sentence members and owners read, and the
/// full text (the hypervisor's own words) that admins, helpdesk and the audit log keep. <see cref="Advice"/>
/// is set when the portal itself declined, in words meant for the member (what to do instead).
/// </summary>
public sealed record ProvisioningFailure(FailureKind Kind, string Detail, string? Advice = null)
{
    /// <summary>A failure of the host side (not of capacity): the admins are told.</summary>
    public bool IsHostSide => Kind is FailureKind.HostRefused or FailureKind.HostUnreachable or FailureKind.TimedOut;

    public static ProvisioningFailure From(HypervisorException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (error is OperationPreconditionException declined)
            return new(declined.Kind, declined.Message, declined.Message);
        var kind = error switch
        {
            HypervisorUnreachableException => FailureKind.HostUnreachable,
            GuestStateException => FailureKind.TimedOut,
            _ => FailureKind.HostRefused,
        };
        return new(kind, error.Message);
    }

    /// <summary>One sentence without the hypervisor's words, naming the request to quote.</summary>
    public string PlainSentence(OperationKind operation, Guid? requestId, Resources.ResourceKind resource = Resources.ResourceKind.Vm)
    {
        if (resource == Resources.ResourceKind.Database)
            return DatabaseSentence(operation, requestId);
        var what = Verb(operation);
        var sentence = Advice ?? Kind switch
        {
            FailureKind.HostUnreachable => $"The host did not answer, so the portal could not {what}; an administrator has been told.",
            FailureKind.NoCapacity => $"No host has room for this VM right now, so the portal could not {what}; ask an administrator for capacity or choose a smaller size.",
            FailureKind.TimedOut => $"The host took too long to {what}, so the portal stopped waiting; an administrator has been told.",
            _ => $"The host refused to {what}; an administrator has been told.",
        };
        return requestId is { } id ? $"{sentence} Request {id}." : sentence;
    }

    private string DatabaseSentence(OperationKind operation, Guid? requestId)
    {
        var what = operation switch
        {
            OperationKind.Create => "create the database",
            OperationKind.Delete => "drop the database",
            OperationKind.RotatePassword => "set a new password",
            OperationKind.Backup => "back the database up",
            _ => "carry out the operation",
        };
        var sentence = Advice ?? Kind switch
        {
            FailureKind.HostUnreachable => $"The database server did not answer, so the portal could not {what}; an administrator has been told.",
            FailureKind.NoCapacity => $"No database server has room for this database right now, so the portal could not {what}; ask an administrator for capacity.",
            FailureKind.TimedOut => $"The database server took too long to {what}, so the portal stopped waiting; an administrator has been told.",
            _ => $"The database server refused to {what}; an administrator has been told.",
        };
        return requestId is { } id ? $"{sentence} Request {id}." : sentence;
    }

    private static string Verb(OperationKind operation) => operation switch
    {
        OperationKind.Create => "create the VM",
        OperationKind.Resize => "resize the VM",
        OperationKind.Delete => "delete the VM",
        OperationKind.Start => "start the VM",
        OperationKind.Shutdown => "shut the VM down",
        OperationKind.ForceOff => "force the VM off",
        OperationKind.Reboot => "reboot the VM",
        OperationKind.Suspend => "pause the VM",
        OperationKind.Resume => "resume the VM",
        _ => "carry out the operation",
    };
}

/// <summary>A call returned, but the host does not show the state it was to bring about; tried again, then a time-out.</summary>
public sealed class GuestStateException : HypervisorException
{
    public GuestStateException()
    {
    }

    public GuestStateException(string message)
        : base(message)
    {
    }

    public GuestStateException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public override bool IsTransient => true;
}

/// <summary>
/// The portal declines an operation in the resource's present state (a paused VM to resize, a guest that
/// would not power off). The message is the portal's own, for the member: it says what to do instead.
/// </summary>
public sealed class OperationPreconditionException : HypervisorException
{
    public OperationPreconditionException()
    {
    }

    public OperationPreconditionException(string message)
        : base(message)
    {
    }

    public OperationPreconditionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The class the member is told of: refused unless the portal stopped waiting.</summary>
    public FailureKind Kind { get; init; } = FailureKind.HostRefused;
}
