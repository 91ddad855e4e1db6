using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Data;

public sealed class PortalDbContext(DbContextOptions<PortalDbContext> options) : IdentityDbContext<PortalUser>(options)
{
    public DbSet<Tenant> Tenants => Set<Tenant>();

    public DbSet<TenantMembership> TenantMemberships => Set<TenantMembership>();

    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        ArgumentNullException.ThrowIfNull(configurationBuilder);
        // SQLite cannot compare or order DateTimeOffset stored as text; a binary (ticks + offset) form can.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
        configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<DateTimeOffsetToBinaryConverter>();
    }

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);

        builder.Entity<PortalUser>(user =>
        {
            user.Property(u => u.DisplayName).HasMaxLength(100);
        });

        builder.Entity<Tenant>(tenant =>
        {
            tenant.Property(t => t.Name).HasMaxLength(TenantRules.NameMaxLength).UseCollation("NOCASE");
            tenant.HasIndex(t => t.Name).IsUnique();
            tenant.Property(t => t.Description).HasMaxLength(TenantRules.DescriptionMaxLength);
            tenant.OwnsOne(t => t.Quota, quota =>
            {
                quota.Property(q => q.VCpus).HasColumnName("QuotaVCpus");
                quota.Property(q => q.RamMiB).HasColumnName("QuotaRamMiB");
                quota.Property(q => q.DiskGiB).HasColumnName("QuotaDiskGiB");
                quota.Property(q => q.Vms).HasColumnName("QuotaVms");
                quota.Property(q => q.Databases).HasColumnName("QuotaDatabases");
            });
            tenant.Navigation(t => t.Quota).IsRequired();
            tenant.HasMany(t => t.Memberships).WithOne(m => m.Tenant).HasForeignKey(m => m.TenantId);
        });

        builder.Entity<TenantMembership>(membership =>
        {
            membership.HasKey(m => new { m.TenantId, m.UserId });
            membership.HasOne<PortalUser>().WithMany().HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.Cascade);
            membership.HasIndex(m => m.UserId);
            membership.Property(m => m.Role).HasConversion<string>().HasMaxLength(16);
        });

        builder.Entity<AuditEntry>(entry =>
        {
            entry.Property(e => e.ActorId).HasMaxLength(64);
            entry.Property(e => e.ActorName).HasMaxLength(256);
            entry.Property(e => e.Action).HasMaxLength(64);
            entry.Property(e => e.Target).HasMaxLength(512);
            entry.Property(e => e.Details).HasMaxLength(4000);
            entry.HasIndex(e => e.At);
            entry.HasIndex(e => new { e.TenantId, e.At });
        });
    }
}
