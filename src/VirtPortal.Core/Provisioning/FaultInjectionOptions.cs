using System.ComponentModel.DataAnnotations;

namespace VirtPortal.Core.Provisioning;

/// <summary>
/// Fault injection for the recovery tests, which kill the whole portal process at a named step of the
/// provisioning service and check what a restarted portal makes of it. Off unless set; never set it on
/// a portal anyone uses.
/// </summary>
public sealed class FaultInjectionOptions
{
    public const string Section = "FaultInjection";

    /// <summary>
    /// The step at which this process kills itself (SIGKILL): claimed, placed, defined (Create: the domain
    /// is defined, not started), started (Create: started, outcome not yet recorded) or called (any
    /// operation: the hypervisor call returned, outcome not yet recorded). Empty: off.
    /// </summary>
    [RegularExpression("^(|claimed|placed|defined|started|called)$",
        ErrorMessage = "FaultInjection:KillAt is empty or one of claimed, placed, defined, started, called.")]
    public string KillAt { get; set; } = "";

    /// <summary>Kill at the Nth time any operation of this process reaches <see cref="KillAt"/>.</summary>
    [Range(1, 1000, ErrorMessage = "FaultInjection:KillOnHit must be between 1 and 1000.")]
    public int KillOnHit { get; set; } = 1;
}
