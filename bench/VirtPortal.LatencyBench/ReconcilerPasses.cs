using System.Globalization;

namespace VirtPortal.LatencyBench;

/// <summary>
/// The end of each reconciler pass that found or cleared drift, from the portal's own log stamp
/// ("yyyy-MM-ddTHH:mm:ss.fff info: VirtPortal.Core.Reconciliation.Reconciler[…]"): the pass logs after it
/// saved and published, so the stamp falls between the libvirt event and the hub message.
/// </summary>
internal sealed class ReconcilerPasses
{
    private const string Category = " info: VirtPortal.Core.Reconciliation.Reconciler[";
    private readonly List<double> times = [];

    public IReadOnlyList<double> Times
    {
        get
        {
            lock (times)
                return [.. times];
        }
    }

    public void OnLine(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (line.Length < 23 || !line.AsSpan(23).StartsWith(Category, StringComparison.Ordinal))
            return;
        if (DateTime.TryParseExact(line[..23], "yyyy-MM-ddTHH:mm:ss.fff", CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at))
        {
            lock (times)
                times.Add((at.Ticks - DateTime.UnixEpoch.Ticks) / (double)TimeSpan.TicksPerMillisecond);
        }
    }
}
