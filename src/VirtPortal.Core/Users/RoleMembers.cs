using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Data;

namespace VirtPortal.Core.Users;

public static class RoleMembers
{
    /// <summary>The ids of the users who hold global <paramref name="role"/>.</summary>
    public static Task<List<string>> UserIdsInRoleAsync(this PortalDbContext db, string role, CancellationToken ct) =>
        (from ur in db.UserRoles
         join r in db.Roles on ur.RoleId equals r.Id
         where r.Name == role
         select ur.UserId).ToListAsync(ct);
}
