using System.ComponentModel.DataAnnotations;

namespace VirtPortal.Web.Console;

/// <summary>Settings of the console proxy at <see cref="ConsoleProxy.Route"/>, bound from the <c>Console</c> section.</summary>
public sealed class ConsoleOptions
{
    public const string Section = "Console";

    /// <summary>Console sessions one user may have open at once (every browser tab and every VM counts).</summary>
    [Range(1, 20, ErrorMessage = "Console:MaxSessionsPerUser must be between 1 and 20.")]
    public int MaxSessionsPerUser { get; set; } = 3;

    /// <summary>A session with no keyboard, mouse or clipboard input for this long is closed.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Console:IdleTimeout must be between 1 second and 1 day.")]
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// How often every open session is checked again: a locked, deleted or changed account, or one that
    /// may no longer open the VM's console, ends its sessions within this time.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:00:30", ErrorMessage = "Console:RevalidationInterval must be between 100 ms and 30 seconds.")]
    public TimeSpan RevalidationInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the proxy waits for the VM's VNC server to accept its connection.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00", ErrorMessage = "Console:ConnectTimeout must be between 1 second and 1 minute.")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a ticket is valid after it is issued (the 60 s is also the most).</summary>
    public static readonly TimeSpan TicketLifetime = TimeSpan.FromSeconds(60);
}
