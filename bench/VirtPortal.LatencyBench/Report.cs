using System.Globalization;
using System.Text;
using VirtPortal.BenchKit;

namespace VirtPortal.LatencyBench;

/// <summary>What the run says, as the markdown block the bench prints and keeps in docs/PERFORMANCE.md.</summary>
internal static class Report
{
    public const double HubTargetMs = 100;
    public const double DomTargetMs = 150;

    public sealed record Run(
        DateTimeOffset Started, string Commit, string Machine, string Load, Options Options, string DomainType,
        IReadOnlyList<Matched> Measured, int PortalWarnings, int PortalErrors, int HubClosed, int VirshFailures, IReadOnlyList<string> VirshUnparsed);

    public static string Markdown(Run run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var m = run.Measured;
        var n = m.Count;
        var pauses = m.Count(x => x.Change.Command == "suspend");
        var text = new StringBuilder();
        text.AppendLine(Inv($"### {n} changes ({pauses} pauses, {n - pauses} resumes) of one `vp-tiny` guest, {run.Started:yyyy-MM-dd HH:mm} UTC"));
        text.AppendLine();
        text.AppendLine(Inv($"Commit {run.Commit}; {run.Machine}; load average at the start {run.Load}; `{run.Options.LibvirtUri}`, domain type {run.DomainType}; one change every {run.Options.Gap.TotalSeconds:0.0#} s after the previous returned; {run.Options.Warmup} warm-up changes before these, not counted. All times are Unix milliseconds of this machine's real-time clock (the bench's `DateTime.UtcNow`, virsh's own stamps, Chromium's `performance.timeOrigin + performance.now()`)."));
        text.AppendLine();
        text.AppendLine("| from → to | n | p50 ms | p95 ms | p99 ms | max ms |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|");
        Row(text, "virsh call → hub client (`resourceChanged`)", m.Select(x => x.CallToHub), bold: true);
        Row(text, "virsh call → DOM (the chip's `data-state`)", m.Select(x => x.CallToDom), bold: true);
        Row(text, "libvirt event → hub client", m.Select(x => x.EventToHub));
        Row(text, "libvirt event → DOM", m.Select(x => x.EventToDom));
        Row(text, "virsh call → libvirt event (`virsh event` stamp)", m.Select(x => x.CallToEvent));
        Row(text, "libvirt event → reconciler pass logged (portal's log stamp)", m.Select(x => x.EventToPass));
        Row(text, "reconciler pass logged → hub client", m.Select(x => x.PassToHub));
        Row(text, "virsh call → virsh returned", m.Select(x => (double?)x.VirshCall));
        Row(text, "hub client → DOM (same change)", m.Select(x => x.HubToDom));
        Row(text, "DOM → next animation frame", m.Select(x => x.DomToFrame));
        text.AppendLine();
        var missedEvent = m.Count(x => x.Event is null);
        var missedHub = m.Count(x => x.Hub is null);
        var missedDom = m.Count(x => x.Dom is null);
        var extra = m.Sum(x => Math.Max(0, x.HubMessages - 1));
        text.AppendLine(Inv($"Matched: libvirt events {n - missedEvent} of {n}, hub messages {n - missedHub} of {n}, DOM changes {n - missedDom} of {n}{(missedEvent + missedHub + missedDom > 0 ? " (**some missed**)" : "; none missed")}. Further `resourceChanged` messages of the VM inside a change's window: {extra}. virsh calls failed: {run.VirshFailures}. Hub connection closed: {run.HubClosed} times. Portal log lines warn / fail: {run.PortalWarnings} / {run.PortalErrors}."));
        if (run.VirshUnparsed.Count > 0)
            text.AppendLine().AppendLine(Inv($"`virsh event` printed {run.VirshUnparsed.Count} other lines, e.g. `{run.VirshUnparsed[0]}`."));
        text.AppendLine();
        var hub99 = new Percentiles(m.Where(x => x.CallToHub is not null).Select(x => x.CallToHub!.Value)).At(99);
        var dom99 = new Percentiles(m.Where(x => x.CallToDom is not null).Select(x => x.CallToDom!.Value)).At(99);
        var complete = missedHub + missedDom == 0;
        text.AppendLine(Inv($"Targets at p99, from the virsh call: hub ≤ {HubTargetMs:0} ms: **{(complete && hub99 <= HubTargetMs ? "met" : "missed")}** ({Ms(hub99)} ms); DOM ≤ {DomTargetMs:0} ms: **{(complete && dom99 <= DomTargetMs ? "met" : "missed")}** ({Ms(dom99)} ms)."));
        return text.ToString().TrimEnd();
    }

    private static void Row(StringBuilder text, string label, IEnumerable<double?> samples, bool bold = false)
    {
        var p = new Percentiles(samples.Where(s => s is not null).Select(s => s!.Value));
        var b = bold ? "**" : "";
        text.AppendLine(Inv($"| {label} | {p.Count} | {Ms(p.At(50))} | {Ms(p.At(95))} | {b}{Ms(p.At(99))}{b} | {Ms(p.Max)} |"));
    }

    private static string Ms(double value) => double.IsNaN(value) ? "–" : value.ToString(value < 10 ? "0.0" : "0", CultureInfo.InvariantCulture);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
