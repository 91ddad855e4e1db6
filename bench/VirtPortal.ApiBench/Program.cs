using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using VirtPortal.ApiBench;
using VirtPortal.BenchKit;

// The REST API as a script sees it: the portal's Release build on the simulated host (no simulated delays), a
// tenant of the bench's own and the demo member's API token. It times, over real HTTP on loopback:
//   - POST /api/v1/requests (a small VM the policy approves) with an Idempotency-Key, and the same POST repeated
//     (the kept answer), then how long the provisioning worker takes to have every VM running;
//   - GET of a page of resources, of one resource (with its observed state and operations), of one request
//     (with its timeline), one call at a time;
//   - GET of one resource from --concurrency clients at once for --seconds: calls per second and latency;
//   - a webhook: a receiver on 127.0.0.1 subscribed to the tenant, and a reboot of a VM per sample: the time
//     from the POST until the receiver has the signed delivery of the resource's change.
//
// Usage (build in Release first): dotnet bench/VirtPortal.ApiBench/bin/Release/net10.0/VirtPortal.ApiBench.dll
//     [--requests 100] [--reads 300] [--concurrency 8] [--seconds 10] [--hooks 100] [--no-doc]
//   --hooks N   reboots timed to their signed webhook delivery (default 100; 0 skips webhooks)
var options = Options.Parse(args);
var root = Repository.FindRoot();
var load = Machine.LoadAverage();
var commit = await Repository.CommitAsync(root);
var machine = Machine.Describe();
var started = DateTimeOffset.UtcNow;
var ct = CancellationToken.None;
var temp = Directory.CreateTempSubdirectory("virtportal-api-");
var data = Directory.CreateDirectory(Path.Combine(temp.FullName, "data")).FullName;
Console.Error.WriteLine($"load {load}; {machine}; commit {commit}; data in {temp.FullName}");
var json = new JsonSerializerOptions(JsonSerializerDefaults.Web);

PortalProcess? portal = null;
var run = new Report.Run { Started = started, Commit = commit, Machine = machine, Load = load, Options = options };
try
{
    var world = await Seed.RunAsync(data, options.Requests + 10, ct);
    portal = PortalProcess.Start(new PortalLaunch
    {
        Repository = root, LogPath = Path.Combine(temp.FullName, "portal.log"), Environment = "Production",
        Settings = Seed.Settings(data).ToDictionary(s => s.Key, s => s.Value!),
    });
    await portal.WaitReadyAsync(TimeSpan.FromMinutes(3), ct);
    using var member = Client(portal.BaseUrl, world.MemberToken);

    var template = (await GetAsync(member, "/api/v1/catalog/templates?limit=200")).GetProperty("items").EnumerateArray()
        .Single(t => t.GetProperty("name").GetString() == "Tiny test guest");
    var size = (await GetAsync(member, $"/api/v1/catalog/templates/{template.GetProperty("id").GetGuid()}/sizes")).GetProperty("items").EnumerateArray()
        .Single(s => s.GetProperty("name").GetString() == "small");

    // Warm-up: the first calls JIT the endpoints and open the database.
    for (var i = 0; i < 20; i++)
        await GetAsync(member, "/api/v1/resources?limit=50");

    var requestIds = new List<Guid>();
    var clock = Stopwatch.StartNew();
    for (var i = 0; i < options.Requests; i++)
    {
        var key = Guid.NewGuid().ToString();
        var body = new { kind = "NewVm", tenantId = world.TenantId, name = $"bench-{i:000}", templateId = template.GetProperty("id").GetGuid(), sizeId = size.GetProperty("id").GetGuid(), leaseDays = 7, justification = "api bench" };
        var (first, created) = await TimedPostAsync(member, "/api/v1/requests", body, key, HttpStatusCode.Created);
        run.Create.Add(first);
        requestIds.Add(created.GetProperty("request").GetProperty("id").GetGuid());
        var (again, _) = await TimedPostAsync(member, "/api/v1/requests", body, key, HttpStatusCode.Created);
        run.Replay.Add(again);
    }

    var submitted = clock.Elapsed;
    var vmIds = new List<Guid>();
    while (true)
    {
        var page = await GetAsync(member, $"/api/v1/resources?tenantId={world.TenantId}&limit=200");
        var running = page.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("resource")).Where(r => r.GetProperty("state").GetString() == "Running").Select(r => r.GetProperty("id").GetGuid()).ToList();
        if (running.Count >= options.Requests)
        {
            vmIds = running;
            break;
        }

        if (clock.Elapsed > TimeSpan.FromMinutes(5))
            throw new TimeoutException($"only {running.Count} of {options.Requests} VMs running after 5 minutes; see {portal.LogPath}");
        await Task.Delay(50, ct);
    }

    run.AllRunningAfter = clock.Elapsed - submitted;
    Console.Error.WriteLine(Inv($"{options.Requests} requests submitted in {submitted.TotalSeconds:0.0} s; all running {run.AllRunningAfter.TotalSeconds:0.0} s later"));

    for (var i = 0; i < options.Reads; i++)
    {
        run.ListPage.Add(await TimedGetAsync(member, "/api/v1/resources?limit=50"));
        run.GetResource.Add(await TimedGetAsync(member, $"/api/v1/resources/{vmIds[i % vmIds.Count]}"));
        run.GetRequest.Add(await TimedGetAsync(member, $"/api/v1/requests/{requestIds[i % requestIds.Count]}"));
    }

    var deadline = Stopwatch.StartNew();
    var concurrent = await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(async c =>
    {
        using var client = Client(portal.BaseUrl, world.MemberToken);
        var times = new List<double>();
        var n = c;
        while (deadline.Elapsed < options.Duration)
            times.Add(await TimedGetAsync(client, $"/api/v1/resources/{vmIds[n++ % vmIds.Count]}"));
        return times;
    }));
    run.ConcurrentElapsed = deadline.Elapsed;
    run.Concurrent.AddRange(concurrent.SelectMany(t => t));

    await Webhooks.RunAsync(portal.BaseUrl, world, vmIds, options.Hooks, run, ct);
}
finally
{
    if (portal is not null)
        await portal.StopAndKeepLogAsync();
    temp.Delete(recursive: true);
}

run.PortalWarnings = portal!.Warnings;
run.PortalErrors = portal.Errors;
var markdown = Report.Markdown(run);
Console.WriteLine(markdown);
if (!options.NoDoc)
{
    var doc = Path.Combine(root, "docs", "PERFORMANCE.md");
    DocumentBlock.Rewrite(doc, "api bench", markdown, "## REST API and webhooks: calls from a script, and change → signed delivery");
    Console.Error.WriteLine($"updated {doc}");
}

return 0;

static HttpClient Client(Uri baseUrl, string token)
{
    var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = baseUrl };
    client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    return client;
}

static async Task<JsonElement> GetAsync(HttpClient client, string path)
{
    using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
    var text = await response.Content.ReadAsStringAsync();
    if (response.StatusCode != HttpStatusCode.OK)
        throw new InvalidOperationException($"GET {path}: {(int)response.StatusCode} {text}");
    using var document = JsonDocument.Parse(text);
    return document.RootElement.Clone();
}

static async Task<double> TimedGetAsync(HttpClient client, string path)
{
    var sent = Stopwatch.GetTimestamp();
    using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
    await response.Content.ReadAsByteArrayAsync();
    var ms = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
    return response.StatusCode == HttpStatusCode.OK ? ms : throw new InvalidOperationException($"GET {path}: {(int)response.StatusCode}");
}

static async Task<(double Ms, JsonElement Body)> TimedPostAsync(HttpClient client, string path, object body, string key, HttpStatusCode expected)
{
    using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative)) { Content = JsonContent.Create(body) };
    request.Headers.Add("Idempotency-Key", key);
    var sent = Stopwatch.GetTimestamp();
    using var response = await client.SendAsync(request);
    var text = await response.Content.ReadAsStringAsync();
    var ms = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
    if (response.StatusCode != expected)
        throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode} {text}");
    using var document = JsonDocument.Parse(text);
    return (ms, document.RootElement.Clone());
}

static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
