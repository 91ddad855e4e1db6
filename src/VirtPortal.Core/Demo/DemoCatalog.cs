using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Catalog;
using VirtPortal.Core.Data;

namespace VirtPortal.Core.Demo;

/// <summary>The catalog demo mode starts with: three sizes, two templates, two database offerings.</summary>
public static class DemoCatalog
{
    public const string DebianTemplate = "Debian 12";
    public const string TestGuestTemplate = "Tiny test guest";

    /// <summary>
    /// Adds the demo catalog to <paramref name="db"/>'s change set when the catalog is empty (an admin's
    /// catalog is never touched); the caller saves. True when something was added.
    /// </summary>
    public static async Task<bool> SeedAsync(PortalDbContext db, TimeProvider time, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(time);
        if (await db.VmSizes.AnyAsync(ct) || await db.VmTemplates.AnyAsync(ct) || await db.DatabaseOfferings.AnyAsync(ct))
            return false;

        VmSize Size(string name, int vcpus, int ramMiB, int diskGiB, decimal hourly) =>
            new() { Id = NewId(), Name = name, VCpus = vcpus, RamMiB = ramMiB, DiskGiB = diskGiB, HourlyPrice = hourly };
        var small = Size("small", 1, 1024, 10, 0.01m);
        var medium = Size("medium", 2, 4096, 40, 0.04m);
        var large = Size("large", 8, 16384, 160, 0.16m);
        db.VmSizes.AddRange(small, medium, large);

        db.VmTemplates.AddRange(
            new VmTemplate
            {
                Id = NewId(),
                Name = DebianTemplate,
                Description = "Debian stable with cloud-init.",
                OsLabel = "Debian 12",
                ImageRef = "debian-12-base",
                DefaultLeaseDays = 30,
                HourlyPrice = 0.00m,
            },
            new VmTemplate
            {
                Id = NewId(),
                Name = TestGuestTemplate,
                Description = "A minimal guest that boots in seconds, for trying the portal out.",
                OsLabel = "busybox",
                ImageRef = "vp-tiny", // built by scripts/build-test-guest.sh
                DefaultLeaseDays = 7,
                HourlyPrice = 0.00m,
                AllowedSizes = [small, medium],
            });

        db.DatabaseOfferings.AddRange(
            new DatabaseOffering
            {
                Id = NewId(),
                Name = "PostgreSQL small",
                Description = "A PostgreSQL database on the shared server.",
                Engine = DatabaseEngineKind.PostgreSql,
                StorageGiB = 10,
                ConnectionLimit = 50,
                HourlyPrice = 0.02m,
            },
            new DatabaseOffering
            {
                Id = NewId(),
                Name = "SQLite embedded",
                Description = "A SQLite file, for small tools and tests.",
                Engine = DatabaseEngineKind.Sqlite,
                StorageGiB = 1,
                ConnectionLimit = 10,
                HourlyPrice = 0.00m,
            });
        return true;

        Guid NewId() => Guid.CreateVersion7(time.GetUtcNow());
    }
}
