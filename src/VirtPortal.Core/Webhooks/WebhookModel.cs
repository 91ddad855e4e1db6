using Microsoft.EntityFrameworkCore;

namespace VirtPortal.Core.Webhooks;

/// <summary>The webhook tables, kept with the feature so that the portal's context names them in one line.</summary>
public static class WebhookModel
{
    public static void Configure(ModelBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Entity<WebhookSubscription>(subscription =>
        {
            subscription.Property(s => s.Url).HasMaxLength(WebhookTargets.UrlMaxLength);
            subscription.Property(s => s.Description).HasMaxLength(WebhookService.DescriptionMaxLength);
            subscription.Property(s => s.Events).HasMaxLength(1000);
            subscription.Property(s => s.ProtectedSecret).HasMaxLength(2000);
            subscription.Property(s => s.SecretHint).HasMaxLength(16);
            subscription.Property(s => s.State).HasConversion<string>().HasMaxLength(16);
            subscription.Property(s => s.CreatedBy).HasMaxLength(64);
            subscription.Property(s => s.Version).IsConcurrencyToken();
            subscription.HasOne<Tenancy.Tenant>().WithMany().HasForeignKey(s => s.TenantId).OnDelete(DeleteBehavior.Cascade);
            subscription.HasIndex(s => s.TenantId);
        });
        builder.Entity<WebhookEvent>(webhookEvent =>
        {
            webhookEvent.HasKey(e => e.Sequence);
            webhookEvent.HasIndex(e => e.Id).IsUnique();
            webhookEvent.Property(e => e.Type).HasMaxLength(64);
            webhookEvent.Property(e => e.EntityKind).HasMaxLength(32);
            webhookEvent.HasIndex(e => e.FannedOut);
            webhookEvent.HasIndex(e => e.OccurredAt);
        });
        builder.Entity<WebhookDelivery>(delivery =>
        {
            delivery.Property(d => d.State).HasConversion<string>().HasMaxLength(16);
            delivery.Property(d => d.LastError).HasMaxLength(500);
            delivery.HasOne(d => d.Event).WithMany().HasForeignKey(d => d.EventSequence).OnDelete(DeleteBehavior.Cascade);
            delivery.HasOne<WebhookSubscription>().WithMany().HasForeignKey(d => d.SubscriptionId).OnDelete(DeleteBehavior.Cascade);
            delivery.HasIndex(d => new { d.SubscriptionId, d.EntityId, d.State, d.EventSequence });
            delivery.HasIndex(d => new { d.State, d.NextAttemptAt });
        });
    }
}
