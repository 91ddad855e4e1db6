using Microsoft.Extensions.Time.Testing;

namespace VirtPortal.Core.Tests;

/// <summary>
/// The fake clock of a <see cref="PortalTestHost"/>, which also tells when code starts waiting on it: a
/// background loop that waits with <c>Task.Delay(due, time)</c> creates a timer of that due time, so a
/// test can wait for the loop to be idle instead of sleeping and hoping it got there.
/// </summary>
public sealed class TestClock(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly Lock gate = new();
    private readonly List<TimeSpan> created = [];
    private readonly List<(TimeSpan Due, TaskCompletionSource Created)> waiters = [];

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        lock (gate)
        {
            created.Add(dueTime);
            foreach (var waiter in waiters.Where(w => w.Due == dueTime).ToList())
            {
                waiters.Remove(waiter);
                waiter.Created.TrySetResult();
            }
        }

        return timer;
    }

    /// <summary>Completes once a timer due after <paramref name="dueTime"/> has been created (at once when one was).</summary>
    public Task WaitForTimerAsync(TimeSpan dueTime, CancellationToken ct)
    {
        lock (gate)
        {
            if (created.Contains(dueTime))
                return Task.CompletedTask;
            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            waiters.Add((dueTime, waiter));
            return waiter.Task.WaitAsync(ct);
        }
    }
}
