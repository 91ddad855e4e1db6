using System.ComponentModel.DataAnnotations;

namespace VirtPortal.Core.Provisioning;

public sealed class ProvisioningOptions
{
    public const string Section = "Provisioning";

    /// <summary>How long a claimed operation is a worker's; after that another worker takes it over.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "01:00:00", ErrorMessage = "Provisioning:LeaseDuration must be between 5 seconds and 1 hour.")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    [Range(1, 100, ErrorMessage = "Provisioning:MaxAttempts must be between 1 and 100.")]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>How often an idle worker looks at the queue (work queued in this process wakes it at once).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00", ErrorMessage = "Provisioning:IdleDelay must be between 50 ms and 1 minute.")]
    public TimeSpan IdleDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a resize waits for a running guest to power off after the power button; keep it under the lease.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "00:30:00", ErrorMessage = "Provisioning:ResizeShutdownTimeout must be between 5 seconds and 30 minutes.")]
    public TimeSpan ResizeShutdownTimeout { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>How many operations run at once on one host (as Nova's max_concurrent_builds); one resource's run strictly in order.</summary>
    [Range(1, 64, ErrorMessage = "Provisioning:MaxConcurrentPerHost must be between 1 and 64.")]
    public int MaxConcurrentPerHost { get; set; } = 4;

    /// <summary>How long the portal waits for one operation's hypervisor calls before it fails the operation as timed out.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "02:00:00", ErrorMessage = "Provisioning:OperationTimeout must be between 10 seconds and 2 hours.")]
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromMinutes(10);
}
