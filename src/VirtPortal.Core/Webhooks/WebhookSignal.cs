using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;

namespace VirtPortal.Core.Webhooks;

/// <summary>
/// Wakes the dispatcher when something it sends was committed, so a delivery leaves at once instead of at the
/// next poll. A context that wrote outbox rows inside a transaction wakes it when that transaction commits.
/// </summary>
public sealed class WebhookSignal
{
    private readonly Channel<bool> channel = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly ConditionalWeakTable<DbContext, object> written = [];

    public void Kick() => channel.Writer.TryWrite(true);

    /// <summary>Waits for a kick or for <paramref name="timeout"/>, whichever comes first.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timer.CancelAfter(timeout);
        try
        {
            await channel.Reader.ReadAsync(timer.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // The poll interval passed without a kick.
        }
    }

    internal void Wrote(DbContext context) => written.AddOrUpdate(context, this);

    /// <summary>Kicks when <paramref name="context"/> wrote outbox rows that are now committed.</summary>
    internal void Committed(DbContext context)
    {
        if (context.Database.CurrentTransaction is null && written.Remove(context))
            Kick();
    }

    internal void TransactionCommitted(DbContext context)
    {
        if (written.Remove(context))
            Kick();
    }
}
