using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Catalog;
using VirtPortal.Core.Notifications;
using VirtPortal.Core.Policies;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Data;

public sealed class PortalDbContext(DbContextOptions<PortalDbContext> options) : IdentityDbContext<PortalUser>(options)
{
    public DbSet<Tenant> Tenants => Set<Tenant>();

    public DbSet<TenantMembership> TenantMemberships => Set<TenantMembership>();

    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();

    public DbSet<VmTemplate> VmTemplates => Set<VmTemplate>();

    public DbSet<VmSize> VmSizes => Set<VmSize>();

    public DbSet<DatabaseOffering> DatabaseOfferings => Set<DatabaseOffering>();

    public DbSet<TenantPolicy> TenantPolicies => Set<TenantPolicy>();

    public DbSet<Request> Requests => Set<Request>();

    public DbSet<RequestEvent> RequestEvents => Set<RequestEvent>();

    public DbSet<Resource> Resources => Set<Resource>();

    public DbSet<Operation> Operations => Set<Operation>();

    public DbSet<Notification> Notifications => Set<Notification>();

    public DbSet<Hosts.Host> Hosts => Set<Hosts.Host>();

    public DbSet<Databases.DatabaseServer> DatabaseServers => Set<Databases.DatabaseServer>();

    public DbSet<Databases.DatabaseCredential> DatabaseCredentials => Set<Databases.DatabaseCredential>();

    public DbSet<Databases.DatabaseBackup> DatabaseBackups => Set<Databases.DatabaseBackup>();

    public DbSet<Databases.DatabaseFigureRollup> DatabaseFigureRollups => Set<Databases.DatabaseFigureRollup>();

    public DbSet<Reconciliation.Drift> Drifts => Set<Reconciliation.Drift>();

    public DbSet<Monitoring.MetricRollup> MetricRollups => Set<Monitoring.MetricRollup>();

    public DbSet<Tokens.ApiToken> ApiTokens => Set<Tokens.ApiToken>();

    public DbSet<Api.IdempotencyRecord> IdempotencyRecords => Set<Api.IdempotencyRecord>();

    public DbSet<Webhooks.WebhookSubscription> WebhookSubscriptions => Set<Webhooks.WebhookSubscription>();

    public DbSet<Webhooks.WebhookEvent> WebhookEvents => Set<Webhooks.WebhookEvent>();

    public DbSet<Webhooks.WebhookDelivery> WebhookDeliveries => Set<Webhooks.WebhookDelivery>();

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
            tenant.Property(t => t.Version).IsConcurrencyToken();
            tenant.OwnsOne(t => t.Quota, quota =>
            {
                quota.Property(q => q.VCpus).HasColumnName("QuotaVCpus");
                quota.Property(q => q.RamMiB).HasColumnName("QuotaRamMiB");
                quota.Property(q => q.DiskGiB).HasColumnName("QuotaDiskGiB");
                quota.Property(q => q.Vms).HasColumnName("QuotaVms");
                quota.Property(q => q.Databases).HasColumnName("QuotaDatabases");
            });
            tenant.Navigation(t => t.Quota).IsRequired();
            // Bumped by every approval that reserves quota: racing approvals on other databases than
            // SQLite (whose transactions serialize writers) then fail and retry instead of both passing.
            tenant.Property<long>("QuotaVersion").IsConcurrencyToken();
            tenant.HasMany(t => t.Memberships).WithOne(m => m.Tenant).HasForeignKey(m => m.TenantId);
        });

        builder.Entity<TenantMembership>(membership =>
        {
            membership.HasKey(m => new { m.TenantId, m.UserId });
            membership.HasOne<PortalUser>().WithMany().HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.Cascade);
            membership.HasIndex(m => m.UserId);
            membership.Property(m => m.Role).HasConversion<string>().HasMaxLength(16);
        });

        builder.Entity<VmTemplate>(template =>
        {
            template.Property(t => t.Name).HasMaxLength(CatalogRules.NameMaxLength).UseCollation("NOCASE");
            template.HasIndex(t => t.Name).IsUnique();
            template.Property(t => t.Description).HasMaxLength(500);
            template.Property(t => t.OsLabel).HasMaxLength(100);
            template.Property(t => t.ImageRef).HasMaxLength(500);
            template.HasMany(t => t.AllowedSizes).WithMany(s => s.Templates).UsingEntity("VmTemplateSizes");
            template.Property(t => t.Version).IsConcurrencyToken();
        });
        builder.Entity<VmSize>(size =>
        {
            size.Property(s => s.Name).HasMaxLength(CatalogRules.NameMaxLength).UseCollation("NOCASE");
            size.HasIndex(s => s.Name).IsUnique();
            size.Property(s => s.Version).IsConcurrencyToken();
        });
        builder.Entity<DatabaseOffering>(offering =>
        {
            offering.Property(o => o.Name).HasMaxLength(CatalogRules.NameMaxLength).UseCollation("NOCASE");
            offering.HasIndex(o => o.Name).IsUnique();
            offering.Property(o => o.Description).HasMaxLength(500);
            offering.Property(o => o.Engine).HasConversion<string>().HasMaxLength(16);
            offering.Property(o => o.Version).IsConcurrencyToken();
        });

        builder.Entity<TenantPolicy>(policy =>
        {
            policy.HasKey(p => p.TenantId);
            policy.HasOne<Tenant>().WithOne().HasForeignKey<TenantPolicy>(p => p.TenantId).OnDelete(DeleteBehavior.Cascade);
            policy.Property(p => p.OnTimeout).HasConversion<string>().HasMaxLength(24);
            policy.OwnsMany(p => p.Stages, stage =>
            {
                stage.ToJson();
                stage.Property(s => s.Mode).HasConversion<string>();
            });
        });

        builder.Entity<Request>(request =>
        {
            request.Property(r => r.Kind).HasConversion<string>().HasMaxLength(16);
            request.Property(r => r.State).HasConversion<string>().HasMaxLength(16);
            request.Property(r => r.Name).HasMaxLength(63);
            request.Property(r => r.RequesterId).HasMaxLength(64);
            request.Property(r => r.RequesterName).HasMaxLength(256);
            request.Property(r => r.Justification).HasMaxLength(1000);
            request.Property(r => r.Reason).HasMaxLength(1000);
            request.Property(r => r.FailureDetail).HasMaxLength(4000);
            request.Property(r => r.FailureKind).HasConversion<string>().HasMaxLength(16);
            request.Property(r => r.Version).IsConcurrencyToken();
            request.OwnsOne(r => r.Demand, demand =>
            {
                demand.Property(d => d.VCpus).HasColumnName("DemandVCpus");
                demand.Property(d => d.RamMiB).HasColumnName("DemandRamMiB");
                demand.Property(d => d.DiskGiB).HasColumnName("DemandDiskGiB");
                demand.Property(d => d.Vms).HasColumnName("DemandVms");
                demand.Property(d => d.Databases).HasColumnName("DemandDatabases");
            });
            request.Navigation(r => r.Demand).IsRequired();
            request.OwnsOne(r => r.RequestedQuota, quota =>
            {
                quota.Property(q => q.VCpus).HasColumnName("RequestedQuotaVCpus");
                quota.Property(q => q.RamMiB).HasColumnName("RequestedQuotaRamMiB");
                quota.Property(q => q.DiskGiB).HasColumnName("RequestedQuotaDiskGiB");
                quota.Property(q => q.Vms).HasColumnName("RequestedQuotaVms");
                quota.Property(q => q.Databases).HasColumnName("RequestedQuotaDatabases");
            });
            request.HasOne<Tenant>().WithMany().HasForeignKey(r => r.TenantId);
            request.HasMany(r => r.Timeline).WithOne().HasForeignKey(e => e.RequestId);
            request.HasMany(r => r.Approvals).WithOne().HasForeignKey(a => a.RequestId);
            request.HasIndex(r => new { r.TenantId, r.State });
            request.HasIndex(r => r.State);
        });
        builder.Entity<RequestEvent>(e =>
        {
            e.Property(x => x.From).HasConversion<string>().HasMaxLength(16);
            e.Property(x => x.To).HasConversion<string>().HasMaxLength(16);
            e.Property(x => x.ActorId).HasMaxLength(64);
            e.Property(x => x.ActorName).HasMaxLength(256);
            e.Property(x => x.Message).HasMaxLength(1000);
        });
        builder.Entity<RequestApproval>(a =>
        {
            a.HasKey(x => new { x.RequestId, x.Stage, x.ApproverId });
            a.Property(x => x.ApproverId).HasMaxLength(64);
        });

        builder.Entity<Resource>(resource =>
        {
            resource.Property(r => r.Kind).HasConversion<string>().HasMaxLength(16);
            resource.Property(r => r.State).HasConversion<string>().HasMaxLength(16);
            resource.Property(r => r.Name).HasMaxLength(63).UseCollation("NOCASE");
            resource.Property(r => r.Version).IsConcurrencyToken();
            resource.HasOne<Tenant>().WithMany().HasForeignKey(r => r.TenantId);
            resource.HasIndex(r => new { r.TenantId, r.Name });
            resource.HasIndex(r => r.LeaseEndsAt);
        });

        builder.Entity<Operation>(operation =>
        {
            operation.Property(o => o.Kind).HasConversion<string>().HasMaxLength(16);
            operation.Property(o => o.State).HasConversion<string>().HasMaxLength(16);
            operation.Property(o => o.RequestedBy).HasMaxLength(64);
            operation.Property(o => o.LeaseOwner).HasMaxLength(128);
            operation.Property(o => o.LastError).HasMaxLength(4000);
            operation.Property(o => o.FailureKind).HasConversion<string>().HasMaxLength(16);
            operation.HasOne<Resource>().WithMany().HasForeignKey(o => o.ResourceId);
            operation.HasIndex(o => new { o.State, o.NotBefore });
            operation.HasIndex(o => o.ResourceId);
        });

        builder.Entity<Monitoring.MetricRollup>(rollup =>
        {
            // A row a minute per VM kept 48 hours and a row an hour kept 90 days: the key is also the
            // series' order, and the resource id is stored in 16 bytes rather than as 36 characters.
            rollup.HasKey(r => new { r.ResourceId, r.Resolution, r.BucketStart });
            rollup.Property(r => r.ResourceId).HasConversion(new GuidToBytesConverter());
            rollup.HasIndex(r => new { r.Resolution, r.BucketStart });
        });

        builder.Entity<Databases.DatabaseFigureRollup>(rollup =>
        {
            // A row per database each five minutes, kept eight days; the key is also the series' order.
            rollup.HasKey(r => new { r.ResourceId, r.BucketStart });
            rollup.Property(r => r.ResourceId).HasConversion(new GuidToBytesConverter());
            rollup.HasIndex(r => r.BucketStart);
        });

        builder.Entity<Hosts.Host>(host =>
        {
            host.Property(h => h.Name).HasMaxLength(64).UseCollation("NOCASE");
            host.HasIndex(h => h.Name).IsUnique();
            host.Property(h => h.Uri).HasMaxLength(500);
            host.Property(h => h.DomainType).HasMaxLength(16);
            host.Property(h => h.Driver).HasConversion<string>().HasMaxLength(16);
            host.Property(h => h.State).HasConversion<string>().HasMaxLength(16);
            host.Property(h => h.LastError).HasMaxLength(2000);
            host.Property(h => h.AccelerationReason).HasMaxLength(500);
        });
        builder.Entity<Resource>().Property(r => r.PlacementReason).HasMaxLength(1000);
        builder.Entity<Reconciliation.Drift>(drift =>
        {
            drift.Property(d => d.Kind).HasConversion<string>().HasMaxLength(16);
            drift.Property(d => d.DomainName).HasMaxLength(128);
            drift.Property(d => d.PortalView).HasMaxLength(256);
            drift.Property(d => d.HypervisorView).HasMaxLength(256);
            drift.Property(d => d.Resolution).HasMaxLength(500);
            drift.HasOne<Hosts.Host>().WithMany().HasForeignKey(d => d.HostId);
            drift.HasIndex(d => new { d.HostId, d.ResolvedAt });
            drift.HasOne<Databases.DatabaseServer>().WithMany().HasForeignKey(d => d.DatabaseServerId);
            drift.HasIndex(d => new { d.DatabaseServerId, d.ResolvedAt });
        });
        builder.Entity<Resource>().HasOne<Hosts.Host>().WithMany().HasForeignKey(r => r.HostId);
        builder.Entity<Databases.DatabaseServer>(server =>
        {
            server.Property(s => s.Name).HasMaxLength(64).UseCollation("NOCASE");
            server.HasIndex(s => s.Name).IsUnique();
            server.Property(s => s.Engine).HasConversion<string>().HasMaxLength(16);
            server.Property(s => s.State).HasConversion<string>().HasMaxLength(16);
            server.Property(s => s.ProtectedAdminConnection).HasMaxLength(4000);
            server.Property(s => s.Endpoint).HasMaxLength(300);
            server.Property(s => s.ClientHost).HasMaxLength(255);
            server.Property(s => s.Version).HasMaxLength(200);
            server.Property(s => s.LastError).HasMaxLength(1000);
        });
        builder.Entity<Resource>(resource =>
        {
            resource.HasOne<Databases.DatabaseServer>().WithMany().HasForeignKey(r => r.DatabaseServerId);
            resource.Property(r => r.DatabaseName).HasMaxLength(63);
        });
        builder.Entity<Databases.DatabaseCredential>(credential =>
        {
            credential.HasKey(c => c.ResourceId);
            credential.Property(c => c.ProtectedPassword).HasMaxLength(2000);
            credential.HasOne<Resource>().WithOne().HasForeignKey<Databases.DatabaseCredential>(c => c.ResourceId).OnDelete(DeleteBehavior.Cascade);
        });
        builder.Entity<Databases.DatabaseBackup>(backup =>
        {
            backup.Property(b => b.State).HasConversion<string>().HasMaxLength(16);
            backup.Property(b => b.Engine).HasConversion<string>().HasMaxLength(16);
            backup.Property(b => b.RequestedBy).HasMaxLength(64);
            backup.Property(b => b.Error).HasMaxLength(1000);
            backup.HasOne<Resource>().WithMany().HasForeignKey(b => b.ResourceId);
            backup.HasIndex(b => new { b.ResourceId, b.CreatedAt });
            backup.HasIndex(b => new { b.TenantId, b.State });
        });

        builder.Entity<Notification>(notification =>
        {
            notification.Property(n => n.UserId).HasMaxLength(64);
            notification.Property(n => n.Kind).HasConversion<string>().HasMaxLength(24);
            notification.Property(n => n.Text).HasMaxLength(1000);
            notification.Property(n => n.Link).HasMaxLength(500);
            notification.HasIndex(n => new { n.UserId, n.ReadAt });
        });

        builder.Entity<Tokens.ApiToken>(token =>
        {
            token.Property(t => t.UserId).HasMaxLength(64);
            token.Property(t => t.Name).HasMaxLength(Tokens.ApiTokenService.NameMaxLength);
            token.Property(t => t.SecretHash).HasMaxLength(64);
            token.HasIndex(t => t.SecretHash).IsUnique();
            token.Property(t => t.Hint).HasMaxLength(16);
            token.HasOne<PortalUser>().WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
            token.HasIndex(t => t.UserId);
        });

        builder.Entity<Api.IdempotencyRecord>(record =>
        {
            record.Property(r => r.OwnerId).HasMaxLength(64);
            record.Property(r => r.Key).HasMaxLength(Api.IdempotencyStore.KeyMaxLength);
            record.HasIndex(r => new { r.OwnerId, r.Key }).IsUnique();
            record.Property(r => r.RequestHash).HasMaxLength(64);
            record.Property(r => r.ContentType).HasMaxLength(200);
            record.Property(r => r.Location).HasMaxLength(500);
            record.Property(r => r.ETag).HasMaxLength(100);
            record.HasIndex(r => r.CreatedAt);
        });

        Webhooks.WebhookModel.Configure(builder);

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
