using System.Globalization;
using VirtPortal.Newcomer;

// What a newcomer gets: the README's `dotnet run --project src/VirtPortal.Web` until the sign-in page
// answers, then, in Chromium, the demo member's first VM request ("Tiny test guest", size small) until
// the request page shows it Running, pushed by the page itself. Each run starts from a fresh data
// directory (or, with --fresh-clone, a fresh clone, so that `dotnet run` restores and builds), on the
// local libvirt (qemu:///system), and deletes the VM it made.
//
// Usage: dotnet run -c Release --project bench/VirtPortal.Newcomer -- [runs] [options]
//   runs                 how many runs (default 3)
//   --fresh-clone        clone the repo into a temp dir per run: dotnet run restores and builds there
//   --cold-nuget         with --fresh-clone: a private, empty NuGet package cache (downloads every package)
//   --domain-type TYPE   Hosts:LocalDomainType for the first run (default qemu; "auto" leaves it to the portal)
//   --lock FILE          hold an exclusive flock on FILE from the submit until the VM is deleted
//   --no-doc             print the report only; do not update docs/PERFORMANCE.md
// Needs root (or libvirt access), a running libvirtd, the guest from scripts/build-test-guest.sh and
// Debian's Chromium.
var options = Options.Parse(args);
var root = VirtPortal.BenchKit.Repository.FindRoot();
Console.Error.WriteLine($"repository {root}; {options.Describe()}");

var machine = await Machine.DescribeAsync(root);
if (!options.FreshClone)
    await NewcomerRun.BuildTreeAsync(root);
var results = new List<RunResult>();
for (var i = 1; i <= options.Runs; i++)
{
    try
    {
        var run = await NewcomerRun.ExecuteAsync(options, root, i);
        results.Add(run);
        Console.Error.WriteLine(Report.Line(run));
    }
    catch (Exception error) when (error is BenchException or TimeoutException or Microsoft.Playwright.PlaywrightException)
    {
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"run {i} failed: {error.Message}"));
        return 1;
    }
}

var markdown = Report.Markdown(options, machine, results);
Console.WriteLine(markdown);
if (!options.NoDoc)
{
    var doc = Path.Combine(root, "docs", "PERFORMANCE.md");
    Report.UpdateDocument(doc, markdown);
    Console.Error.WriteLine($"updated {doc}");
}

return 0;
