using System.ComponentModel.DataAnnotations;
using System.Net;

namespace VirtPortal.Core.Monitoring;

/// <summary>The metrics collector, its storage and the <c>/metrics</c> export (section <c>Monitoring</c>).</summary>
public sealed class MonitoringOptions : IValidatableObject
{
    public const string Section = "Monitoring";

    /// <summary>How often every host is sampled (one bulk-stats call per host).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00", ErrorMessage = "Monitoring:Interval must be between 1 second and 10 minutes.")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a host may take to answer one bulk-stats call before it counts as unreachable.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00", ErrorMessage = "Monitoring:SampleTimeout must be between 1 second and 5 minutes.")]
    public TimeSpan SampleTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Full-resolution points kept in memory per resource (the 15-minute chart).</summary>
    [Range(typeof(TimeSpan), "00:15:00", "06:00:00", ErrorMessage = "Monitoring:LiveWindow must be between 15 minutes and 6 hours.")]
    public TimeSpan LiveWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long minute rollups are kept in the database (the hour and day charts read them).</summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "31.00:00:00", ErrorMessage = "Monitoring:MinuteRetention must be between 1 and 31 days.")]
    public TimeSpan MinuteRetention { get; set; } = TimeSpan.FromHours(48);

    /// <summary>How long hourly rollups are kept in the database (the week chart reads them).</summary>
    [Range(typeof(TimeSpan), "7.00:00:00", "3650.00:00:00", ErrorMessage = "Monitoring:HourRetention must be between 7 and 3650 days.")]
    public TimeSpan HourRetention { get; set; } = TimeSpan.FromDays(90);

    /// <summary>
    /// Whether <c>/metrics</c> also exports one series per VM, labelled with its tenant's and its own
    /// name. Off by default: with it, whoever scrapes learns every tenant's resource names.
    /// </summary>
    public bool ExportPerVmSeries { get; set; }

    /// <summary>
    /// Networks (CIDR, such as <c>10.0.0.0/8</c> or <c>fd00::/8</c>) whose clients may read <c>/metrics</c>,
    /// besides loopback, which always may.
    /// </summary>
    public IList<string> MetricsAllowedNetworks { get; } = [];

    /// <summary>The allowed networks, parsed (validation at start-up makes sure they parse).</summary>
    public IReadOnlyList<IPNetwork> AllowedNetworks() =>
        [.. MetricsAllowedNetworks.Select(n => IPNetwork.TryParse(n.Trim(), out var network) ? network : (IPNetwork?)null).OfType<IPNetwork>()];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var network in MetricsAllowedNetworks)
        {
            if (!IPNetwork.TryParse(network.Trim(), out _))
            {
                yield return new ValidationResult(
                    $"Monitoring:MetricsAllowedNetworks has '{network}', which is not a network in CIDR form such as 10.0.0.0/8.",
                    [nameof(MetricsAllowedNetworks)]);
            }
        }
    }
}
