using System.ComponentModel.DataAnnotations;

namespace VirtPortal.Core.Webhooks;

/// <summary>Settings of the <c>Webhooks</c> section: where deliveries may go and how they are retried.</summary>
public sealed class WebhookOptions : IValidatableObject
{
    public const string Section = "Webhooks";

    /// <summary>
    /// Whether subscriptions may target private and loopback addresses (10/8, 172.16/12, 192.168/16, 127/8, fc00::/7,
    /// ::1): off, so a tenant cannot make the portal call into its own network. Link-local and cloud metadata
    /// addresses stay refused either way.
    /// </summary>
    public bool AllowPrivateTargets { get; set; }

    /// <summary>Attempts of one delivery before it fails and its subscription is marked failing.</summary>
    [Range(1, 50)]
    public int MaxAttempts { get; set; } = 8;

    /// <summary>The wait after the first failed attempt; each further one doubles it (with jitter) up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(2);

    /// <summary>How long one attempt may take, connection included.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the dispatcher looks for due deliveries besides being woken by commits.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long events and finished deliveries stay in the delivery log; pending ones stay until they finish.</summary>
    [Range(1, 3650)]
    public int RetentionDays { get; set; } = 30;

    /// <summary>Subscriptions per tenant (and portal-wide).</summary>
    [Range(1, 1000)]
    public int MaxSubscriptions { get; set; } = 20;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (FirstRetryDelay <= TimeSpan.Zero)
            yield return new ValidationResult($"{Section}:{nameof(FirstRetryDelay)} must be positive.", [nameof(FirstRetryDelay)]);
        if (MaxRetryDelay < FirstRetryDelay)
            yield return new ValidationResult($"{Section}:{nameof(MaxRetryDelay)} must be at least {nameof(FirstRetryDelay)}.", [nameof(MaxRetryDelay)]);
        if (Timeout <= TimeSpan.Zero || Timeout > TimeSpan.FromMinutes(2))
            yield return new ValidationResult($"{Section}:{nameof(Timeout)} must be between 0 and 2 minutes.", [nameof(Timeout)]);
        if (PollInterval <= TimeSpan.Zero)
            yield return new ValidationResult($"{Section}:{nameof(PollInterval)} must be positive.", [nameof(PollInterval)]);
    }

    /// <summary>
    /// The wait after <paramref name="attempts"/> failed attempts: <see cref="FirstRetryDelay"/> doubled each time, capped,
    /// then "equal jitter" (half of it fixed, half random) so that receivers coming back are not hit by every portal at once.
    /// </summary>
    public TimeSpan RetryDelay(int attempts, double random)
    {
        var exponent = Math.Min(Math.Max(attempts - 1, 0), 30);
        var ticks = Math.Min(FirstRetryDelay.Ticks * Math.Pow(2, exponent), MaxRetryDelay.Ticks);
        return TimeSpan.FromTicks((long)(ticks / 2 + ticks / 2 * Math.Clamp(random, 0, 1)));
    }
}
