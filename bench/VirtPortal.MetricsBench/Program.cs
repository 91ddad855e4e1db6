using System.Diagnostics;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core;
using VirtPortal.Core.Data;
using VirtPortal.Core.Monitoring;
using VirtPortal.Core.Provisioning;
using VirtPortal.Libvirt;

// Two measurements of the metrics feature.
//   stats [runs] [settle-s]  one bulk-stats call (virConnectGetAllDomainStats) with 1, 5 and 10 running tiny
//                     guests on the local qemu:///system; needs root, libvirtd and scripts/build-test-guest.sh.
//   db-growth [vms]   the SQLite bytes one VM's rollups add per day (1440 minute rows + 24 hourly rows),
//                     through the portal's own schema and EF Core.
// Guests are timed once they had settle-s seconds to boot (a booting TCG guest keeps QEMU, and the
// monitor libvirt queries, busy). Usage: dotnet run -c Release --project bench/VirtPortal.MetricsBench -- stats 20 30
var mode = args.Length > 0 ? args[0] : "stats";
var ct = CancellationToken.None;
if (mode == "db-growth")
{
    await DbGrowthAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20);
    return;
}

var runs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20;
var settle = TimeSpan.FromSeconds(args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 30);
await using var hypervisor = new LibvirtHypervisor(new LibvirtHostOptions { Uri = "qemu:///system", DomainType = "qemu" });
var guests = new List<Guid>();
try
{
    Console.WriteLine("guests | calls | min ms | median ms | max ms | returned");
    foreach (var count in new[] { 1, 5, 10 })
    {
        while (guests.Count < count)
        {
            var id = Guid.NewGuid();
            guests.Add(id);
            await hypervisor.CreateAsync(new DomainSpec(id, $"vp-bench-{id:N}"[..16], 1, 128, 1, "vp-tiny"), ct);
        }

        await Task.Delay(settle, ct);
        var times = new List<double>();
        IReadOnlyList<DomainStats> stats = [];
        for (var i = 0; i < runs; i++)
        {
            var clock = Stopwatch.StartNew();
            stats = await hypervisor.GetAllStatsAsync(ct);
            times.Add(clock.Elapsed.TotalMilliseconds);
        }

        var ours = stats.Count(s => guests.Contains(s.Id));
        times.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{count} | {runs} | {times[0]:F1} | {times[times.Count / 2]:F1} | {times[^1]:F1} | {ours} of {count} guests returned, {stats.Count} domains in all"));
    }
}
finally
{
    foreach (var id in guests)
        await hypervisor.DeleteAsync(id, CancellationToken.None);
}

static async Task DbGrowthAsync(int vms)
{
    var directory = Directory.CreateTempSubdirectory("virtportal-metrics-bench-");
    var path = Path.Combine(directory.FullName, "portal.db");
    var services = new ServiceCollection().AddLogging();
    services.AddPortalCore(new ConfigurationBuilder().Build(), $"Data Source={path};Pooling=False");
    await using var provider = services.BuildServiceProvider();
    var factory = provider.GetRequiredService<IDbContextFactory<PortalDbContext>>();
    await using (var db = await factory.CreateDbContextAsync())
    {
        await db.Database.MigrateAsync();
        await db.Database.ExecuteSqlRawAsync("VACUUM");
    }

    var empty = new FileInfo(path).Length;
    var day = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
    var random = new Random(7);
    for (var v = 0; v < vms; v++)
    {
        var id = Guid.NewGuid();
        await using var db = await factory.CreateDbContextAsync();
        MetricPoint Point(DateTimeOffset at) => new(at, random.NextDouble() * 100, random.NextInt64(100_000_000, 4_000_000_000), 4L << 30,
            random.NextDouble() * 1e6, random.NextDouble() * 1e6, random.NextDouble() * 1e5, random.NextDouble() * 1e5);
        for (var m = 0; m < 1440; m++)
            db.MetricRollups.Add(MetricRollups.Average(id, MetricResolution.Minute, day.AddMinutes(m), [(Point(day.AddMinutes(m)), 12)])!);
        for (var h = 0; h < 24; h++)
            db.MetricRollups.Add(MetricRollups.Average(id, MetricResolution.Hour, day.AddHours(h), [(Point(day.AddHours(h)), 720)])!);
        await db.SaveChangesAsync();
    }

    await using (var db = await factory.CreateDbContextAsync())
        await db.Database.ExecuteSqlRawAsync("VACUUM");
    var full = new FileInfo(path).Length;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{vms} VMs x 1 day: {full - empty} bytes over the empty schema = {(full - empty) / (double)vms:F0} bytes per VM per day ({(full - empty) / (double)vms / 1464:F1} per row)"));
    directory.Delete(recursive: true);
}
