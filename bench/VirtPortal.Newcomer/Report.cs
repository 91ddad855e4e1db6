using System.Globalization;
using System.Text;

namespace VirtPortal.Newcomer;

/// <summary>The table the bench prints and keeps in docs/PERFORMANCE.md, one block per mode.</summary>
internal static class Report
{
    public const string Heading = "## Newcomer path: first run and first request";

    private sealed record Row(string Label, Func<RunResult, double?> Value);

    private static readonly Row[] Rows =
    [
        new("git clone", r => r.GitClone),
        new("`dotnet run` → the portal's process starts (restore + build)", r => r.AppStarted),
        new("portal process → \"Now listening\" (migrations, demo data, first-run host)", r => r.Listening - r.AppStarted),
        new("**`dotnet run` → sign-in page answers** (GET /Account/Login 200)", r => r.SignInPage),
        new("sign-in page load in Chromium", r => r.Browser.SignInPageLoad),
        new("sign in → home page", r => r.Browser.SignIn),
        new("new-request form → interactive", r => r.Browser.FormReady),
        new("submit → request page shown", r => r.Browser.SubmitToRequestPage),
        new("**submit → request page shows Completed, VM Running** (pushed)", r => r.Browser.SubmitToRunning),
        new("&nbsp;&nbsp;submit click → request recorded", r => r.Server.ClickToSubmitted),
        new("&nbsp;&nbsp;recorded → approved (auto-approval)", r => r.Server.SubmittedToApproved),
        new("&nbsp;&nbsp;approved → placed and claimed by the worker", r => r.Server.ApprovedToClaimed),
        new("&nbsp;&nbsp;claimed → Running recorded (libvirt define, disk, start)", r => r.Server.ClaimedToRunning),
        new("&nbsp;&nbsp;Running recorded → shown on the request page (push)", r => r.Server.RunningToShown),
    ];

    public static string Line(RunResult r) => string.Create(CultureInfo.InvariantCulture,
        $"run {r.Index}: sign-in page after {Format(r.SignInPage)} (process after {Format(r.AppStarted)}), submit → Running shown {Format(r.Browser.SubmitToRunning)} " +
        $"(approved → claimed {Format(r.Server.ApprovedToClaimed)}, claimed → Running {Format(r.Server.ClaimedToRunning)}), host {r.HostName} {r.DomainType}, load {r.Load}");

    public static string Markdown(Options options, Machine machine, IReadOnlyList<RunResult> results)
    {
        var text = new StringBuilder();
        var date = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var hosts = string.Join(", ", results.Select(r => $"`{r.HostName}` {r.HostUri} `{r.DomainType}`").Distinct());
        var domainType = options.DomainType == "auto" ? "chosen by the portal" : $"`Hosts__LocalDomainType={options.DomainType}` set";
        text.AppendLine(CultureInfo.InvariantCulture, $"### {Title(options)}: {results.Count} run(s), {date}");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Commit {machine.Commit}, .NET SDK {machine.Sdk}; {machine.Cpus}, {machine.Memory}, {machine.Os}; {machine.Libvirt}; {machine.Kvm}.");
        text.AppendLine(CultureInfo.InvariantCulture, $"First-run host (hosts table): {hosts} ({domainType}). Load average at each run's start: {string.Join("; ", results.Select(r => r.Load))}.");
        text.AppendLine();
        text.Append("| step | median | min–max |");
        foreach (var r in results)
            text.Append(CultureInfo.InvariantCulture, $" run {r.Index} |");
        text.AppendLine();
        text.Append("|---|---:|---:|");
        foreach (var _ in results)
            text.Append("---:|");
        text.AppendLine();
        foreach (var row in Rows)
        {
            var values = results.Select(row.Value).ToList();
            if (values.All(v => v is null))
                continue;
            var known = values.OfType<double>().Order().ToList();
            text.Append(CultureInfo.InvariantCulture, $"| {row.Label} | {Format(Median(known))} | {Format(known[0])}–{Format(known[^1])} |");
            foreach (var v in values)
                text.Append(CultureInfo.InvariantCulture, $" {(v is { } x ? Format(x) : "–")} |");
            text.AppendLine();
        }

        return text.ToString().TrimEnd();
    }

    /// <summary>
    /// Replaces this mode's block in the newcomer section of <paramref name="path"/>, or adds it (and
    /// the section) when missing. Text outside the blocks is left as written.
    /// </summary>
    public static void UpdateDocument(string path, string block)
    {
        var key = block[(block.IndexOf("### ", StringComparison.Ordinal) + 4)..block.IndexOf(':', StringComparison.Ordinal)];
        var begin = $"<!-- newcomer bench: {key} -->";
        var end = $"<!-- /newcomer bench: {key} -->";
        var wrapped = $"{begin}\n{block}\n{end}";
        var doc = File.ReadAllText(path).ReplaceLineEndings("\n");
        var start = doc.IndexOf(begin, StringComparison.Ordinal);
        if (start >= 0)
        {
            var stop = doc.IndexOf(end, start, StringComparison.Ordinal);
            if (stop < 0)
                throw new BenchException($"{path}: '{begin}' has no '{end}'");
            doc = doc[..start] + wrapped + doc[(stop + end.Length)..];
        }
        else
        {
            var section = doc.IndexOf("\n" + Heading + "\n", StringComparison.Ordinal);
            if (section < 0)
            {
                doc = doc.TrimEnd() + "\n\n" + Heading + "\n\n" +
                    "`bench/VirtPortal.Newcomer`: the README's `dotnet run --project src/VirtPortal.Web`, then the demo member's first VM request in Chromium.\n";
                section = doc.IndexOf("\n" + Heading + "\n", StringComparison.Ordinal);
            }

            var next = doc.IndexOf("\n## ", section + Heading.Length + 1, StringComparison.Ordinal);
            var at = next < 0 ? doc.Length : next;
            doc = doc[..at].TrimEnd() + "\n\n" + wrapped + "\n" + (next < 0 ? "" : "\n" + doc[(at + 1)..]);
        }

        File.WriteAllText(path, doc.TrimEnd() + "\n");
    }

    private static string Title(Options options) => options.ColdNuget ? "Fresh clone, empty NuGet cache" : options.FreshClone ? "Fresh clone" : "Fresh data directory on the built tree";

    private static double Median(List<double> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;

    private static string Format(double ms) => ms switch
    {
        >= 10_000 or <= -10_000 => string.Create(CultureInfo.InvariantCulture, $"{ms / 1000:F1} s"),
        >= 1000 or <= -1000 => string.Create(CultureInfo.InvariantCulture, $"{ms / 1000:F2} s"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{ms:F0} ms"),
    };
}
