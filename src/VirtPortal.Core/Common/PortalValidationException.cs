namespace VirtPortal.Core.Common;

/// <summary>
/// Bad input to a portal operation. Nothing was changed. <see cref="Errors"/> maps a field name
/// (the input model's property, or "" for the whole form) to the messages shown next to it.
/// </summary>
public sealed class PortalValidationException : Exception
{
    public PortalValidationException(string field, string message)
        : this(new Dictionary<string, string[]> { [field] = [message] })
    {
    }

    public PortalValidationException(IReadOnlyDictionary<string, string[]> errors)
        : base(string.Join(" ", errors.SelectMany(e => e.Value)))
    {
        Errors = errors;
    }

    public PortalValidationException()
        : this("", "The request is not valid.")
    {
    }

    public PortalValidationException(string message)
        : this("", message)
    {
    }

    public PortalValidationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = new Dictionary<string, string[]> { [""] = [message] };
    }

    public IReadOnlyDictionary<string, string[]> Errors { get; }

    /// <summary>The first message for <paramref name="field"/>, or null.</summary>
    public string? For(string field) => Errors.TryGetValue(field, out var messages) ? messages.FirstOrDefault() : null;
}

/// <summary>The acting user may not do this. Nothing was changed; the denial is audited.</summary>
public sealed class PortalAccessDeniedException : Exception
{
    public PortalAccessDeniedException()
        : base("You do not have permission to do that.")
    {
    }

    public PortalAccessDeniedException(string message)
        : base(message)
    {
    }

    public PortalAccessDeniedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>
    /// The reason the access table gave, told only to someone who may see the target (a request they may
    /// not decide, a read-only token); null for the refusal that says nothing, as for an unknown target.
    /// </summary>
    public string? Reason { get; init; }
}

/// <summary>The change was asked against a version of the target that is no longer its current one. Nothing was changed.</summary>
public sealed class PortalConcurrencyException : Exception
{
    public PortalConcurrencyException()
        : base("It changed since you read it. Read it again.")
    {
    }

    public PortalConcurrencyException(string message)
        : base(message)
    {
    }

    public PortalConcurrencyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Throws unless <paramref name="expected"/> is null (no precondition) or the target's <paramref name="current"/> version.</summary>
    public static void ThrowIfStale(long? expected, long current, string what)
    {
        if (expected is { } version && version != current)
            throw new PortalConcurrencyException($"{what} changed since you read it (version {current}, not {version}). Read it again.");
    }

    /// <summary>
    /// Saves a change to a target whose version is a concurrency token: one saved meanwhile by someone else (the
    /// version moved under it) is refused as stale, as <see cref="ThrowIfStale"/> refuses an old If-Match.
    /// </summary>
    public static async Task SaveVersionedAsync(Func<Task> save, string what)
    {
        ArgumentNullException.ThrowIfNull(save);
        try
        {
            await save();
        }
        catch (Microsoft.EntityFrameworkCore.DbUpdateConcurrencyException e)
        {
            throw new PortalConcurrencyException($"{what} changed since you read it. Read it again.", e);
        }
    }
}

/// <summary>The thing the operation names does not exist (or is not visible to the actor).</summary>
public sealed class PortalNotFoundException : Exception
{
    public PortalNotFoundException()
        : base("Not found.")
    {
    }

    public PortalNotFoundException(string message)
        : base(message)
    {
    }

    public PortalNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
