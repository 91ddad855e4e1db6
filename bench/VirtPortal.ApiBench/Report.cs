using System.Globalization;
using System.Text;
using VirtPortal.BenchKit;

namespace VirtPortal.ApiBench;

/// <summary>What the run says, as the markdown block the bench prints and keeps in docs/PERFORMANCE.md.</summary>
internal static class Report
{
    public sealed class Run
    {
        public required DateTimeOffset Started { get; init; }

        public required string Commit { get; init; }

        public required string Machine { get; init; }

        public required string Load { get; init; }

        public required Options Options { get; init; }

        public List<double> Create { get; } = [];

        public List<double> Replay { get; } = [];

        public TimeSpan AllRunningAfter { get; set; }

        public List<double> ListPage { get; } = [];

        public List<double> GetResource { get; } = [];

        public List<double> GetRequest { get; } = [];

        public List<double> Concurrent { get; } = [];

        public TimeSpan ConcurrentElapsed { get; set; }

        /// <summary>POST of the action → the receiver has the delivery of the resource's change.</summary>
        public List<double> Delivery { get; } = [];

        public string DeliveryNote { get; set; } = "";

        public int PortalWarnings { get; set; }

        public int PortalErrors { get; set; }
    }

    public static string Markdown(Run run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var o = run.Options;
        var text = new StringBuilder();
        text.AppendLine(Inv($"### {o.Requests} requests, {o.Reads} reads of each kind, {o.Concurrency} clients for {o.Duration.TotalSeconds:0} s, {run.Delivery.Count} webhook deliveries, {run.Started:yyyy-MM-dd HH:mm} UTC"));
        text.AppendLine();
        text.AppendLine(Inv($"Commit {run.Commit}; {run.Machine}; load average at the start {run.Load}; the portal's Release build in Production on SQLite and the simulated host without delays; HTTP/1.1 on loopback, one connection per client, the demo member's API token (limited to the bench's tenant). Times are from sending the call until the whole answer was read."));
        text.AppendLine();
        text.AppendLine("| call | n | p50 ms | p95 ms | p99 ms | max ms |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|");
        Row(text, "`POST /requests` (a small VM the policy approves), new `Idempotency-Key`", run.Create);
        Row(text, "the same `POST` again (the kept answer, `Idempotent-Replayed`)", run.Replay);
        Row(text, "`GET /resources?limit=50`", run.ListPage);
        Row(text, "`GET /resources/{id}` (observed state, operations)", run.GetResource);
        Row(text, "`GET /requests/{id}` (with its timeline)", run.GetRequest);
        Row(text, Inv($"`GET /resources/{{id}}`, {o.Concurrency} clients at once"), run.Concurrent);
        Row(text, "`POST /resources/{id}/reboot` sent → the receiver has the signed delivery", run.Delivery);
        text.AppendLine();
        text.AppendLine(Inv($"All {o.Requests} VMs were running {run.AllRunningAfter.TotalSeconds:0.0} s after the last request was answered. {o.Concurrency} clients at once: {run.Concurrent.Count / run.ConcurrentElapsed.TotalSeconds:0} calls/s. {run.DeliveryNote}"));
        text.AppendLine();
        text.AppendLine(Inv($"Portal log lines warn / fail during the run: {run.PortalWarnings} / {run.PortalErrors}."));
        return text.ToString().TrimEnd();
    }

    private static void Row(StringBuilder text, string label, IEnumerable<double> samples)
    {
        var p = new Percentiles(samples);
        text.AppendLine(Inv($"| {label} | {p.Count} | {Ms(p.At(50))} | {Ms(p.At(95))} | {Ms(p.At(99))} | {Ms(p.Max)} |"));
    }

    private static string Ms(double value) => double.IsNaN(value) ? "–" : value.ToString(value < 10 ? "0.0" : "0", CultureInfo.InvariantCulture);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
