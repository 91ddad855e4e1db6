using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Access;
using VirtPortal.Core.Data;

namespace VirtPortal.Core.Users;

/// <summary>Per-user settings the layout remembers across reloads and devices; each actor reads and sets only their own.</summary>
public sealed class UserPreferences(IDbContextFactory<PortalDbContext> dbFactory, PortalAccess access)
{
    [Requires(Permission.SignedIn)]
    public async Task<bool> GetDarkModeAsync(Actor actor, CancellationToken ct = default)
    {
        await access.RequireAsync(actor, Permission.SignedIn, AccessTarget.Portal, "read preferences", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Users.Where(u => u.Id == actor.UserId).Select(u => u.PrefersDarkMode).FirstOrDefaultAsync(ct);
    }

    [Requires(Permission.SignedIn)]
    public async Task<Guid?> GetCurrentTenantAsync(Actor actor, CancellationToken ct = default)
    {
        await access.RequireAsync(actor, Permission.SignedIn, AccessTarget.Portal, "read preferences", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Users.Where(u => u.Id == actor.UserId).Select(u => u.CurrentTenantId).FirstOrDefaultAsync(ct);
    }

    [Requires(Permission.SignedIn)]
    public async Task SetDarkModeAsync(Actor actor, bool dark, CancellationToken ct = default)
    {
        await access.RequireAsync(actor, Permission.SignedIn, AccessTarget.Portal, "set preferences", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Users.Where(u => u.Id == actor.UserId).ExecuteUpdateAsync(s => s.SetProperty(u => u.PrefersDarkMode, dark), ct);
    }
}
