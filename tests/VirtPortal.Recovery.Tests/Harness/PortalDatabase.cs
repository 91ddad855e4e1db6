using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core;
using VirtPortal.Core.Data;
using VirtPortal.Core.Demo;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Users;

namespace VirtPortal.Recovery.Harness;

/// <summary>
/// The portal's Core services in the harness's own process, on the portal's SQLite file: requests go in
/// through the same <see cref="RequestService"/> the web app uses, and state is read back from the same
/// tables. Nothing here runs hosted services, so the only provisioning worker is the portal process's.
/// </summary>
public sealed class PortalDatabase : IAsyncDisposable
{
    private readonly ServiceProvider provider;

    private PortalDatabase(ServiceProvider provider) => this.provider = provider;

    public static PortalDatabase Open(string databasePath)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        // UserManager's token providers need data protection; nothing it protects leaves this process.
        services.AddDataProtection();
        // No pooling: no connection of ours keeps the file open once the scenario is done.
        services.AddPortalCore(new ConfigurationBuilder().Build(), $"Data Source={databasePath};Pooling=False");
        return new PortalDatabase(services.BuildServiceProvider(validateScopes: true));
    }

    /// <summary>The Core services themselves, for what the harness does as a page would (tokens, tenants).</summary>
    public IServiceProvider Services => provider;

    public PortalDbContext NewDb() => provider.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext();

    /// <summary>The demo member (Mia, Acme Research) as the web app describes her after sign-in: id, display name, global roles.</summary>
    public async Task<Actor> DemoMemberAsync(CancellationToken ct)
    {
        await using var scope = provider.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var email = DemoAccounts.All[0].Email;
        var user = await users.FindByEmailAsync(email) ?? throw new InvalidOperationException($"demo mode did not seed {email}");
        var roles = (await users.GetRolesAsync(user)).Where(GlobalRoles.IsKnown).ToHashSet(StringComparer.Ordinal);
        ct.ThrowIfCancellationRequested();
        return new Actor(user.Id, user.Label, roles);
    }

    /// <summary>A request for one "Tiny test guest" VM of size small in Acme Research, as the request form would submit it.</summary>
    public async Task<Guid> SubmitTinyVmAsync(Actor member, string name, CancellationToken ct)
    {
        Guid tenantId, templateId, sizeId;
        int leaseDays;
        await using (var db = NewDb())
        {
            tenantId = await db.Tenants.Where(t => t.Name == DemoAccounts.AcmeTenant).Select(t => t.Id).SingleAsync(ct);
            var template = await db.VmTemplates.AsNoTracking().Include(t => t.AllowedSizes)
                .SingleAsync(t => t.Name == DemoCatalog.TestGuestTemplate, ct);
            templateId = template.Id;
            sizeId = template.AllowedSizes.Single(s => s.Name == "small").Id;
            leaseDays = template.DefaultLeaseDays;
        }

        return await provider.GetRequiredService<RequestDrafts>().SubmitAsync(member, new RequestDraft
        {
            Kind = RequestKind.NewVm,
            TenantId = tenantId,
            Name = name,
            TemplateId = templateId,
            SizeId = sizeId,
            LeaseDays = leaseDays,
            Justification = "crash recovery harness",
        }, ct);
    }

    public ValueTask DisposeAsync() => provider.DisposeAsync();
}
