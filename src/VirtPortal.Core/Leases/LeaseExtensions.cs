using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Data;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;

namespace VirtPortal.Core.Leases;

/// <summary>What an approved lease extension does, in the approval's transaction.</summary>
public static class LeaseExtensions
{
    /// <summary>
    /// Moves the lease end by the request's days (from now if it has passed), counts the extension and
    /// re-arms the warning. An expired resource comes back stopped: the expiry shut it down, and it stays
    /// down until someone starts it.
    /// </summary>
    public static async Task<Resource> ExtendAsync(PortalDbContext db, Request request, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(request);
        var leased = await db.Resources.FirstAsync(r => r.Id == request.ResourceId, ct);
        var start = leased.LeaseEndsAt > now ? leased.LeaseEndsAt : now;
        leased.LeaseEndsAt = start.AddDays(request.LeaseDays);
        leased.LeaseExtensions++;
        leased.LeaseWarningSentAt = null;
        ResourceLifecycle.Unexpire(leased);
        ResourceLifecycle.Touch(leased);
        return leased;
    }
}
