using System.Globalization;
using System.Text;
using VirtPortal.BenchKit;

namespace VirtPortal.FanoutBench;

/// <summary>The block the bench prints and keeps in docs/PERFORMANCE.md between its markers.</summary>
internal static class Report
{
    public const string Heading = "## Fan-out (P2): 1 Hz metrics of 500 VMs to 2,000 hub clients";

    public static string Markdown(Result r)
    {
        var o = r.Options;
        var t = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        var dropped = r.Expected - r.Received;
        var p99 = Percentile(r.Latencies, 0.99);
        var met = p99 < 1000 && dropped == 0 && r.Cores <= 1 && r.Failures.Count == 0;
        t.AppendLine(inv, $"### {o.Vms} VMs × {o.Clients / Math.Max(1, o.Vms)} subscribers = {o.Clients} hub clients, {r.Started:yyyy-MM-dd HH:mm} UTC");
        t.AppendLine();
        t.AppendLine(inv, $"Commit {r.Commit}; load average at the start {r.Load}; portal pinned to CPU {o.PortalCpu}, clients to CPU {o.ClientCpu}; " +
            $"{o.Sources} source addresses 127.0.0.2–127.0.0.{o.Sources + 1}; warm-up {o.Warmup} s, window {r.WindowSeconds:F1} s.");
        t.AppendLine();
        t.AppendLine("| figure | value |");
        t.AppendLine("|---|---:|");
        void Row(string label, string value) => t.AppendLine(inv, $"| {label} | {value} |");
        Row("seeding: requests submitted, auto-approved, provisioned by the worker", $"{o.Vms} VMs in {r.SeedSeconds:F1} s");
        Row("clients connected and subscribed (websocket, `SubscribeMetrics`)", $"{r.Subscribed} of {o.Clients} in {r.ConnectSeconds:F1} s");
        Row("collector ticks seen in the window", $"{r.Ticks}");
        Row("metrics messages expected (subscriptions × ticks) / received", $"{r.Expected:N0} / {r.Received:N0}");
        Row("**dropped**", $"**{dropped:N0}**");
        Row("**delivery latency** (receipt − the point's `at`) p50 / p99 / max", $"{Ms(Percentile(r.Latencies, 0.5))} / **{Ms(p99)}** / {Ms(r.Latencies.LastOrDefault())}");
        Row("arrival spacing per client p1 / p50 / p99 / max", $"{Ms(Percentile(r.Spacings, 0.01))} / {Ms(Percentile(r.Spacings, 0.5))} / {Ms(Percentile(r.Spacings, 0.99))} / {Ms(r.Spacings.LastOrDefault())}");
        Row("**portal CPU** over the window (utime + stime)", $"**{r.Cores:F3} cores** (no clients: {r.IdleCores:F3})");
        Row("client process CPU (all clients)", $"{r.ClientCores:F3} cores");
        Row("portal RSS: no clients / connected / end of window (peak)", $"{Mib(r.RssBefore)} / {Mib(r.RssConnected)} / {Mib(r.RssAfter)} ({Mib(r.RssPeak)})");
        Row("**memory per hub connection** (RSS connected − no clients) / clients", $"**{(r.RssConnected - r.RssBefore) / (double)Math.Max(1, r.Subscribed) / 1024:F1} KiB**");
        Row("portal threads: no clients / end", $"{r.ThreadsBefore} / {r.ThreadsAfter}");
        Row("managed heap (`/metrics`)", r.ManagedHeap is { } heap ? Mib((long)heap) : "not exported (the portal's registry has only its own gauges)");
        Row("connect or subscribe failures; closed; reconnecting; connected at the end", $"{r.Failures.Count}; {r.Closed}; {r.Reconnecting}; {r.ConnectedAtEnd}");
        Row("portal log lines warn / fail", $"{r.PortalWarnings} / {r.PortalErrors}");
        Row("target: p99 < 1 s on ≤ 1 core with 0 dropped", met ? "met" : "**missed**");
        return t.ToString().TrimEnd();
    }

    /// <summary>Replaces the bench's block between its markers, or adds the section at the end.</summary>
    public static void UpdateDocument(string path, string block) => DocumentBlock.Rewrite(path, "fanout bench", block, Heading);

    private static double Percentile(List<double> sorted, double q) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static string Ms(double ms) => double.IsNaN(ms) ? "–" : ms >= 1000
        ? string.Create(CultureInfo.InvariantCulture, $"{ms / 1000:F2} s")
        : string.Create(CultureInfo.InvariantCulture, $"{ms:F0} ms");

    private static string Mib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:F0} MiB");
}
