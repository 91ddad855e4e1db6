using System.Globalization;
using System.Text;
using VirtPortal.BenchKit;

namespace VirtPortal.ConsoleBench;

/// <summary>What the run says, as the markdown block the bench prints and keeps in docs/PERFORMANCE.md.</summary>
internal static class Report
{
    public sealed record Run(
        DateTimeOffset Started, string Commit, string Machine, string Load, Options Options,
        IReadOnlyList<double> Direct, IReadOnlyList<double> Proxied, IReadOnlyList<double> Downstream,
        int Width, int Height, int PortalWarnings, int PortalErrors);

    public static string Markdown(Run run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var direct = new Percentiles(run.Direct);
        var proxied = new Percentiles(run.Proxied);
        var text = new StringBuilder();
        var downstream = new Percentiles(run.Downstream);
        text.AppendLine(Inv($"### {direct.Count + proxied.Count} keystrokes on one `vp-tiny` guest, {run.Started:yyyy-MM-dd HH:mm} UTC"));
        text.AppendLine();
        text.AppendLine(Inv($"Commit {run.Commit}; {run.Machine}; load average at the start {run.Load}; `{run.Options.LibvirtUri}`, domain type {run.Options.DomainType}; screen {run.Width}×{run.Height}, Raw encoding, 32 bits per pixel; the typing path alternates; {run.Options.Gap.TotalMilliseconds:0} ms between the update requests and the keystroke; {run.Options.Warmup} warm-up pairs per path before these, not counted. A keystroke is a key press and release, `a` then Backspace, both counted."));
        text.AppendLine();
        text.AppendLine("| keystroke → echo on screen | n | p50 ms | p95 ms | min ms | max ms |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|");
        Row(text, "typed and watched straight on QEMU's VNC websocket", direct);
        Row(text, "typed and watched through the portal (`/console/{id}`, RFB parsed)", proxied);
        text.AppendLine(Inv($"| **proxy's overhead** (through the portal − straight) | | **{Ms(proxied.At(50) - direct.At(50))}** | **{Ms(proxied.At(95) - direct.At(95))}** | | |"));
        Row(text, "the same screen update, seen through the portal − seen straight (paired)", downstream);
        text.AppendLine();
        text.AppendLine(Inv($"Portal log lines warn / fail during the run: {run.PortalWarnings} / {run.PortalErrors}."));
        return text.ToString().TrimEnd();
    }

    private static void Row(StringBuilder text, string label, Percentiles p) =>
        text.AppendLine(Inv($"| {label} | {p.Count} | {Ms(p.At(50))} | {Ms(p.At(95))} | {Ms(p.Min)} | {Ms(p.Max)} |"));

    private static string Ms(double value) => double.IsNaN(value) ? "–" : value.ToString("0.0", CultureInfo.InvariantCulture);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
