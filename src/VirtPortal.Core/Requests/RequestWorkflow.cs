using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Data;
using VirtPortal.Core.Live;
using VirtPortal.Core.Notifications;
using VirtPortal.Core.Policies;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Requests;

/// <summary>A tenant as a request transaction holds it (tracked: an approval bumps its quota version), with its policy in force.</summary>
internal sealed record TenantContext(Tenant Tenant, TenantPolicy Policy);

/// <summary>What drafts, decisions and queries of requests share: loading, words, approvers, usage.</summary>
internal static class RequestWorkflow
{
    /// <summary>Who approves what the tenant's auto-approval rules let through.</summary>
    public static readonly Actor PolicyActor = new("policy", "approval policy", new HashSet<string>());

    public static async Task<TenantContext> LoadTenantAsync(PortalDbContext db, Guid tenantId, CancellationToken ct) =>
        new(await db.Tenants.Include(t => t.Memberships).FirstAsync(t => t.Id == tenantId, ct), await TenantPolicies.LoadAsync(db, tenantId, ct));

    public static async Task<Request> LoadRequestAsync(PortalDbContext db, Guid requestId, CancellationToken ct) =>
        await db.Requests.Include(r => r.Approvals).FirstAsync(r => r.Id == requestId, ct);

    /// <summary>What the tenant's live resources hold now, with its databases' kept backups in the disk figure.</summary>
    public static async Task<ResourceDemand> UsageAsync(PortalDbContext db, Guid tenantId, CancellationToken ct)
    {
        var live = await db.Resources.AsNoTracking()
            .Where(r => r.TenantId == tenantId && r.State != ResourceState.Deleted && r.State != ResourceState.Failed)
            .Select(r => new { r.Kind, r.VCpus, r.RamMiB, r.DiskGiB }).ToListAsync(ct);
        var held = ResourceDemand.Of([.. live.Select(r => (r.Kind, r.VCpus, r.RamMiB, r.DiskGiB))]);
        var backupBytes = await db.DatabaseBackups.AsNoTracking()
            .Where(b => b.TenantId == tenantId && b.State == Databases.DatabaseBackupState.Ready)
            .SumAsync(b => (long?)b.SizeBytes, ct) ?? 0;
        return held with { DiskGiB = held.DiskGiB + Databases.DatabaseBackups.GiB(backupBytes) };
    }

    public static async Task<List<string>> StageApproverIdsAsync(PortalDbContext db, ApprovalStage stage, CancellationToken ct) =>
        stage.ApproverIds.Count > 0 ? stage.ApproverIds : await db.UserIdsInRoleAsync(GlobalRoles.Approver, ct);

    public static async Task<IReadOnlyList<string>> StageApproverNamesAsync(PortalDbContext db, TenantPolicy policy, int stage, CancellationToken ct)
    {
        if (TenantPolicies.Stage(policy, stage) is not { } found)
            return ["an admin"];
        return found.ApproverIds.Count == 0 ? ["any approver"] : await NamesAsync(db, found.ApproverIds, ct);
    }

    public static async Task<List<string>> NamesAsync(PortalDbContext db, IReadOnlyCollection<string> userIds, CancellationToken ct)
    {
        var users = await db.Users.AsNoTracking().Where(u => userIds.Contains(u.Id)).ToListAsync(ct);
        return [.. users.Select(u => u.Label).Order()];
    }

    public static string StageDescription(ApprovalStage stage, IReadOnlyList<string> approvers) =>
        stage.ApproverIds.Count == 0 ? "any approver"
        : stage.Mode == StageMode.AllOf ? "all of " + string.Join(", ", approvers)
        : "any one of " + string.Join(", ", approvers);

    public static async Task<string> TenantNameAsync(PortalDbContext db, Guid tenantId, CancellationToken ct) =>
        await db.Tenants.Where(t => t.Id == tenantId).Select(t => t.Name).FirstOrDefaultAsync(ct) ?? "a tenant";

    public static RequestSummary Summarize(Request r, string tenantName) => new(
        r.Id, r.TenantId, tenantName, r.Kind, r.State, r.Name, r.RequesterName, r.SubmittedAt, r.CurrentStage, r.StageCount,
        r.Escalated, r.MonthlyCost, r.Reason, r.Version);

    public static string Describe(Request request) => request.Kind switch
    {
        RequestKind.NewVm => $"VM {request.Name}",
        RequestKind.NewDatabase => $"database {request.Name}",
        RequestKind.ResizeVm => $"resize of {request.Name}",
        RequestKind.ExtendLease => $"a {request.LeaseDays}-day lease extension of {request.Name}",
        RequestKind.QuotaIncrease => "a quota increase",
        _ => request.Kind.ToString(),
    };

    public static string Target(Request request) => $"request {request.Id}";

    public static string Link(Request request) => $"/requests/{request.Id}";

    /// <summary>Saves, turning a lost race on the request or the tenant's quota version into a message.</summary>
    public static async Task SaveAsync(PortalDbContext db, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw new Common.PortalValidationException("", "Someone else changed this request or the tenant's quota at the same moment. Reload and try again.");
        }
    }
}

/// <summary>What a transaction caused, published on the bus only after it commits.</summary>
internal sealed class RequestEffects
{
    public List<Notification> Notifications { get; } = [];

    public List<Resource> Resources { get; } = [];

    public void Notify(PortalDbContext db, TimeProvider time, string userId, Guid tenantId, NotificationKind kind, string text, string link)
    {
        Notifications.Add(NotificationService.Add(db, time, userId, kind, text, link, tenantId));
    }

    public void Publish(LiveUpdates live, Request request)
    {
        live.Publish(new RequestChanged(request.TenantId, request.Id, request.Version));
        foreach (var resource in Resources)
            live.Publish(new ResourceChanged(resource.TenantId, resource.Id, resource.Version));
        foreach (var notification in Notifications)
            live.Publish(new NotificationAdded(notification.UserId, notification.Id));
    }
}
