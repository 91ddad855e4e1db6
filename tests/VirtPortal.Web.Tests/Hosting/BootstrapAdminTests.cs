using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Data;
using VirtPortal.Core.Users;

namespace VirtPortal.Web.Tests.Hosting;

/// <summary>First-run bootstrap across a restart of the portal on the same database.</summary>
public sealed class BootstrapAdminTests : IDisposable
{
    private readonly TempDirectory directory = new();

    [Fact]
    public async Task The_bootstrap_admin_is_created_once_and_a_restart_leaves_it_and_its_password_alone()
    {
        string adminId;
        await using (var first = new PortalOnFolder(directory.Path, PortalAppFactory.AdminPassword))
        {
            adminId = Assert.Single(await AdminsAsync(first)).Id;
        }

        // The operator changes the configured password afterwards: it only applies to a first run.
        await using var second = new PortalOnFolder(directory.Path, "a-different-configured-password");

        Assert.Equal(adminId, Assert.Single(await AdminsAsync(second)).Id);
        Assert.Equal(1, await CountAuditAsync(second, AuditActions.AdminBootstrapped));
        using var browser = second.CreateBrowser();
        using var response = await browser.PostLoginAsync(PortalAppFactory.AdminEmail, PortalAppFactory.AdminPassword);
        Assert.Equal("/", response.RedirectTarget().AbsolutePath);
    }

    public void Dispose() => directory.Dispose();

    private static async Task<IList<PortalUser>> AdminsAsync(PortalAppFactory portal)
    {
        await using var scope = portal.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>().GetUsersInRoleAsync(GlobalRoles.Admin);
    }

    private static async Task<int> CountAuditAsync(PortalAppFactory portal, string action)
    {
        await using var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken);
        return await db.AuditEntries.CountAsync(e => e.Action == action, TestContext.Current.CancellationToken);
    }

    // Demo mode off: its admin account would make the admin count say nothing about the bootstrap.
    private sealed class PortalOnFolder(string dataDirectory, string adminPassword) : PortalAppFactory(dataDirectory, new Dictionary<string, string?>
    {
        ["Demo:Enabled"] = "false",
        ["Bootstrap:AdminPassword"] = adminPassword,
    });
}
