using System.Diagnostics;
using System.Globalization;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using VirtPortal.Bench;
using VirtPortal.Core;
using VirtPortal.Core.Bootstrap;
using VirtPortal.Core.Catalog;
using VirtPortal.Core.Data;
using VirtPortal.Core.Live;
using VirtPortal.Core.Policies;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;
using VirtPortal.Libvirt;

// Approval → the guest's first serial-console line, on the local libvirt (qemu:///system, TCG), with the
// portal's own services and hosted provisioning worker. Splits the time into the portal's share and the
// guest's. Usage: dotnet run -c Release --project bench/VirtPortal.Bench [-- runs [image]]
// Needs root (or libvirt access), a running libvirtd and the guest from scripts/build-test-guest.sh.
var runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
var image = args.Length > 1 ? args[1] : "vp-tiny";
var ct = CancellationToken.None;
var directory = Directory.CreateTempSubdirectory("virtportal-bench-");

var builder = Host.CreateApplicationBuilder();
builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
{
    ["Bootstrap:AdminEmail"] = "bench@virtportal.local",
    ["Bootstrap:AdminPassword"] = "bench-admin-password",
    ["Demo:Enabled"] = "false",
    ["Hosts:FirstRun"] = "libvirt",
    ["Databases:FirstRun"] = "none",
    ["Hosts:LocalDomainType"] = "auto", // kvm where the capabilities say KVM runs guests, else qemu (TCG)
    ["Logging:LogLevel:Default"] = "Warning",
});
builder.Services.AddDataProtection();
builder.Services.AddPortalCore(builder.Configuration, $"Data Source={Path.Combine(directory.FullName, "portal.db")}");
builder.Services.AddPortalLibvirt(builder.Configuration);
using var app = builder.Build();
await using (var scope = app.Services.CreateAsyncScope())
    await scope.ServiceProvider.GetRequiredService<PortalInitializer>().InitializeAsync(ct);
await app.StartAsync(ct);

var services = app.Services;
var admin = await Arrange.AdminAsync(services, ct);
var approver = await Arrange.UserAsync(services, "approver@bench.local", [GlobalRoles.Approver], null, ct);
var tenantId = await services.GetRequiredService<TenantService>().CreateAsync(admin, "Bench", null, TenantQuota.Default, ct);
var member = await Arrange.UserAsync(services, "member@bench.local", [], tenantId, ct);
var policies = services.GetRequiredService<PolicyService>();
var policy = await policies.GetAsync(admin, tenantId, ct);
policy.AutoApprove = false; // every request waits for the approver, whose click starts the clock
await policies.SaveAsync(admin, tenantId, policy, ct);
var catalog = services.GetRequiredService<CatalogService>();
var sizeId = await catalog.CreateSizeAsync(admin, new SizeInput("bench", 1, 256, 1, 0m), ct);
var templateId = await catalog.CreateTemplateAsync(admin, new TemplateInput("Bench guest", null, "busybox", image, 1, 0m, []), ct);

var requests = services.GetRequiredService<RequestDrafts>();
var results = new List<Run>();
for (var i = 1; i <= runs; i++)
{
    var requestId = await requests.SubmitAsync(member, new RequestDraft
    {
        Kind = RequestKind.NewVm, TenantId = tenantId, Name = $"bench-{i}", TemplateId = templateId, SizeId = sizeId, LeaseDays = 1, Justification = "bench",
    }, ct);
    var run = await Measure.ApprovalToConsoleAsync(services, approver, requestId, ct);
    results.Add(run);
    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"run {i}: approve {run.Approve:F0} ms, place+claim {run.Claim:F0} ms, create {run.Create:F0} ms, boot {run.Boot:F0} ms, total {run.Total:F0} ms"));
    await Measure.DeleteAsync(services, member, run.ResourceId, ct);
}

await app.StopAsync(ct);
Console.WriteLine(Report.Markdown(results, image));
directory.Delete(recursive: true);

namespace VirtPortal.Bench
{
    /// <summary>One approval, in milliseconds per step.</summary>
    /// <summary>One run; <see cref="Claim"/> holds placement too, which the worker does inside its claim's transaction.</summary>
    internal sealed record Run(Guid ResourceId, double Approve, double Claim, double Create, double Boot)
    {
        public double Portal => Approve + Claim;

        public double Total => Approve + Claim + Create + Boot;
    }

    internal static class Arrange
    {
        public static async Task<Actor> AdminAsync(IServiceProvider services, CancellationToken ct)
        {
            await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(ct);
            var id = await db.Users.Where(u => u.Email == "bench@virtportal.local").Select(u => u.Id).SingleAsync(ct);
            return new Actor(id, "bench@virtportal.local", new HashSet<string> { GlobalRoles.Admin });
        }

        public static async Task<Actor> UserAsync(IServiceProvider services, string email, string[] roles, Guid? tenantId, CancellationToken ct)
        {
            var created = await services.GetRequiredService<UserAdministration>().CreateAsync(Actor.System, new NewUser(email, email, roles, tenantId), ct);
            return new Actor(created.UserId, email, roles.ToHashSet());
        }
    }

    internal static class Measure
    {
        /// <summary>
        /// Approves, then times each step from the audit trail the portal writes anyway (claim, placement,
        /// hypervisor call done) and the guest's console log for its first complete line.
        /// </summary>
        public static async Task<Run> ApprovalToConsoleAsync(IServiceProvider services, Actor approver, Guid requestId, CancellationToken ct)
        {
            var live = services.GetRequiredService<LiveUpdates>();
            var clock = Stopwatch.StartNew();
            var approvedAt = DateTimeOffset.UtcNow;
            await services.GetRequiredService<RequestDecisions>().ApproveAsync(approver, requestId, ct);
            var approve = clock.Elapsed.TotalMilliseconds;

            await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(ct);
            var resourceId = await db.Requests.Where(r => r.Id == requestId).Select(r => r.ResourceId!.Value).SingleAsync(ct);
            var domainName = ResourceLifecycle.DomainName(await db.Resources.AsNoTracking().SingleAsync(r => r.Id == resourceId, ct));

            // The console log appears once QEMU starts; its first newline is the guest's first line.
            var firstLine = await FirstConsoleLineAsync(domainName, TimeSpan.FromMinutes(2), ct);
            var running = await WaitForAsync(live, services, resourceId, s => s is ResourceState.Running or ResourceState.Failed, ct);
            if (running != ResourceState.Running)
                throw new InvalidOperationException($"{domainName} ended {running}; see the portal's audit log.");

            var audit = await db.AuditEntries.AsNoTracking().Where(e => e.At >= approvedAt).OrderBy(e => e.Id).ToListAsync(ct);
            var claimed = audit.First(e => e.Action == "operation.started").At;
            var called = audit.First(e => e.Action == "operation.succeeded").At;
            double Ms(DateTimeOffset from, DateTimeOffset to) => (to - from).TotalMilliseconds;
            var approvedDone = approvedAt.AddMilliseconds(approve);
            return new Run(resourceId, approve, Ms(approvedDone, claimed), Ms(claimed, called), Ms(called, firstLine));
        }

        public static async Task DeleteAsync(IServiceProvider services, Actor member, Guid resourceId, CancellationToken ct)
        {
            await using (var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(ct))
            {
                var name = await db.Resources.Where(r => r.Id == resourceId).Select(r => r.Name).SingleAsync(ct);
                await services.GetRequiredService<ResourceActions>().RequestAsync(member, resourceId, OperationKind.Delete, name, ct);
            }

            await WaitForAsync(services.GetRequiredService<LiveUpdates>(), services, resourceId, s => s is ResourceState.Deleted, ct);
        }

        private static async Task<ResourceState> WaitForAsync(LiveUpdates live, IServiceProvider services, Guid resourceId, Func<ResourceState, bool> done, CancellationToken ct)
        {
            var changed = new SemaphoreSlim(0);
            using var subscription = live.Subscribe(message =>
            {
                if (message is ResourceChanged { EntityId: var id } && id == resourceId)
                    changed.Release();
                return Task.CompletedTask;
            });
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromMinutes(3));
            while (true)
            {
                await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(ct);
                var state = await db.Resources.Where(r => r.Id == resourceId).Select(r => r.State).SingleAsync(ct);
                if (done(state))
                    return state;
                await changed.WaitAsync(TimeSpan.FromSeconds(1), timeout.Token);
            }
        }

        /// <summary>When the first complete line reached the guest's serial-console log, which libvirt names in the domain XML.</summary>
        private static async Task<DateTimeOffset> FirstConsoleLineAsync(string domainName, TimeSpan limit, CancellationToken ct)
        {
            var deadline = Stopwatch.StartNew();
            string? path = null;
            while (deadline.Elapsed < limit)
            {
                path ??= await ConsoleLogPathAsync(domainName, ct);
                if (path is not null && File.Exists(path))
                {
                    using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                    var buffer = new byte[4096];
                    var read = await stream.ReadAsync(buffer, ct);
                    if (Array.IndexOf(buffer, (byte)'\n', 0, read) >= 0)
                        return DateTimeOffset.UtcNow;
                }

                await Task.Delay(path is null ? 20 : 5, ct);
            }

            throw new TimeoutException($"{domainName} printed no console line within {limit.TotalSeconds:0} s (log: {path ?? "none"}).");
        }

        private static async Task<string?> ConsoleLogPathAsync(string domainName, CancellationToken ct)
        {
            var start = new ProcessStartInfo("virsh") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { "-c", "qemu:///system", "dumpxml", domainName })
                start.ArgumentList.Add(argument);
            using var process = Process.Start(start)!;
            var xml = await process.StandardOutput.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct);
            if (process.ExitCode != 0)
                return null;
            return XDocument.Parse(xml).Descendants("serial").Elements("log").Select(l => (string?)l.Attribute("file")).FirstOrDefault()
                ?? throw new InvalidOperationException($"{domainName} does not log its serial console to a file.");
        }
    }

    internal static class Report
    {
        public static string Markdown(IReadOnlyList<Run> runs, string image)
        {
            string Row(string step, Func<Run, double> pick)
            {
                var values = runs.Select(pick).Order().ToList();
                return string.Create(CultureInfo.InvariantCulture,
                    $"| {step} | {values[0]:F0} | {values[values.Count / 2]:F0} | {values[^1]:F0} |");
            }

            return string.Join('\n',
                $"Approval → first serial-console line, {runs.Count} runs, image `{image}`, qemu:///system (TCG), {Environment.ProcessorCount} cores:",
                "",
                "| step | min ms | median ms | max ms |",
                "|---|---:|---:|---:|",
                Row("approve (transaction, audit, queue the operation)", r => r.Approve),
                Row("queue → placed and claimed by the worker (one transaction)", r => r.Claim),
                Row("hypervisor define, disk, start → observed and recorded Running", r => r.Create),
                Row("**portal overhead** (approve + place and claim)", r => r.Portal),
                Row("guest boot: Running → first console line", r => r.Boot),
                Row("**total**: approval → first console line", r => r.Total));
        }
    }
}
