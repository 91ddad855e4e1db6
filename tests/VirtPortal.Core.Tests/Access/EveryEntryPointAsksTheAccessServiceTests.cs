using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Access;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Common;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Tests.Access;

/// <summary>
/// Finds by reflection every public method of the Core services that takes an actor, so a new one is
/// covered without editing this test, and calls it as every actor the access table refuses for it: a
/// member of another tenant, helpdesk for changes, an approver outside approvals, and the rest. Each call
/// must be refused, and the refusal audited with the target's tenant.
/// </summary>
public sealed class EveryEntryPointAsksTheAccessServiceTests : PortalTestBase
{
    private static readonly Assembly Core = typeof(PortalAccess).Assembly;

    public static IEnumerable<MethodInfo> EntryPoints() =>
        Core.GetExportedTypes()
            .Where(t => t.IsClass && !t.IsAbstract && t.GetMethod("<Clone>$") is null && t != typeof(PortalAccess)) // the access service asks no one
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Where(m => !m.IsSpecialName && m.GetParameters().Any(p => p.ParameterType == typeof(Actor)))
            .OrderBy(m => m.DeclaringType!.Name).ThenBy(m => m.Name);

    [Fact]
    public void Every_public_method_that_takes_an_actor_names_its_permission()
    {
        var unmarked = EntryPoints().Where(m => m.GetCustomAttribute<RequiresAttribute>() is null).Select(Name).ToList();

        Assert.True(EntryPoints().Count() > 50, "the scan found the services");
        Assert.Empty(unmarked);
    }

    [Fact]
    public async Task Every_entry_point_refuses_each_actor_the_table_denies_and_audits_it_with_the_target_tenant()
    {
        var world = await ArrangeAsync();
        var access = Host.Services.GetRequiredService<PortalAccess>();
        var failures = new List<string>();
        var calls = 0;
        foreach (var method in EntryPoints())
        {
            var requires = method.GetCustomAttribute<RequiresAttribute>()!;
            var target = requires.Target switch
            {
                AccessTargetKind.Tenant => AccessTarget.Tenant(world.TenantId),
                AccessTargetKind.Resource => AccessTarget.Resource(world.ResourceId),
                AccessTargetKind.Request => AccessTarget.Request(world.RequestId),
                _ => AccessTarget.Portal,
            };
            var expectedTenant = requires.Target == AccessTargetKind.Portal ? (Guid?)null : world.TenantId;
            var service = Host.Services.GetService(method.DeclaringType!) ?? ActivatorUtilities.CreateInstance(Host.Services, method.DeclaringType!);
            foreach (var (who, actor) in world.Actors)
            {
                if (await access.AllowsAsync(actor, requires.Permission, target, Ct))
                    continue;
                calls++;
                var before = await LastDenialIdAsync();
                var outcome = await CallAsync(service, method, actor, world);
                if (outcome is not PortalAccessDeniedException)
                {
                    failures.Add($"{Name(method)} as {who}: {(outcome is null ? "let through" : outcome.GetType().Name + ": " + outcome.Message)}");
                    continue;
                }

                await using var db = Host.NewDb();
                var denial = await db.AuditEntries.Where(e => e.Id > before && e.Action == AuditActions.AccessDenied).OrderBy(e => e.Id).FirstOrDefaultAsync(Ct);
                if (denial is null || denial.ActorId != actor.UserId || denial.TenantId != expectedTenant)
                    failures.Add($"{Name(method)} as {who}: denial audited as {denial?.ActorId ?? "nothing"} / tenant {denial?.TenantId?.ToString() ?? "none"}, expected tenant {expectedTenant?.ToString() ?? "none"}");
            }
        }

        Assert.True(calls > 100, $"only {calls} refused calls were tried");
        Assert.Empty(failures);
    }

    [Fact]
    public async Task The_approvers_home_page_shows_no_audit_entry_the_audit_log_refuses_them()
    {
        var world = await ArrangeAsync();
        var approver = world.Actors["approver"];
        var owner = world.Actors["owner of the tenant"];
        // Portal-wide activity the audit log keeps from approvers: an admin's change and another tenant's request.
        await Host.Tenants.CreateAsync(await Host.AdminAsync(), "Initech", null, TenantQuota.Default, Ct);

        var home = await Host.Services.GetRequiredService<Dashboard.DashboardService>().GetAsync(approver, Ct);
        var audit = Host.Services.GetRequiredService<AuditQueries>();

        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => audit.SearchAsync(approver, new AuditFilter(), Ct));
        Assert.Empty(home.RecentActivity);

        // An owner's home page shows exactly the newest entries their audit log holds.
        var ownerHome = await Host.Services.GetRequiredService<Dashboard.DashboardService>().GetAsync(owner, Ct);
        var ownerLog = await audit.SearchAsync(owner, new AuditFilter(Take: 10), Ct);
        Assert.NotEmpty(ownerHome.RecentActivity);
        Assert.Equal(ownerLog.Entries.Select(e => e.Id), ownerHome.RecentActivity.Select(e => e.Id));
    }

    private sealed record World(Guid TenantId, Guid ResourceId, Guid RequestId, Guid OperationId, string UserId, IReadOnlyDictionary<string, Actor> Actors);

    /// <summary>Tenant Acme (an owner and a member) with a VM, an operation on it and a pending request; Globex with its own member; staff.</summary>
    private async Task<World> ArrangeAsync()
    {
        var owner = await Host.CreateUserAsync("owner@acme.test");
        var member = await Host.CreateUserAsync("member@acme.test");
        var other = await Host.CreateUserAsync("member@globex.test");
        var loner = await Host.CreateUserAsync("nobody@test.local");
        var approver = await Host.CreateUserAsync("approver@test.local", GlobalRoles.Approver);
        var helpdesk = await Host.CreateUserAsync("helpdesk@test.local", GlobalRoles.Helpdesk);
        var admin = await Host.AdminAsync();
        var acme = await Host.CreateTenantAsync("Acme", (owner, TenantRole.Owner), (member, TenantRole.Member));
        await Host.CreateTenantAsync("Globex", (other, TenantRole.Member));

        var now = Host.Time.GetUtcNow();
        var resource = new Resource { Id = Guid.CreateVersion7(now), TenantId = acme, Name = "probe-vm", Kind = ResourceKind.Vm, State = ResourceState.Running, CreatedAt = now, LeaseEndsAt = now.AddDays(30), Version = 1 };
        var request = new Request
        {
            Id = Guid.CreateVersion7(now), TenantId = acme, RequesterId = member.UserId, RequesterName = member.Name, Kind = RequestKind.NewVm,
            State = RequestState.PendingApproval, Name = "probe", SubmittedAt = now, CurrentStage = 1, StageCount = 1, LeaseDays = 7,
        };
        var operation = Operation.Queue(resource, OperationKind.Reboot, member.UserId, now);
        await using (var db = Host.NewDb())
        {
            db.Resources.Add(resource);
            db.Operations.Add(operation);
            db.Requests.Add(request);
            await db.SaveChangesAsync(Ct);
        }

        return new World(acme, resource.Id, request.Id, operation.Id, loner.UserId, new Dictionary<string, Actor>
        {
            ["member of another tenant"] = other,
            ["user of no tenant"] = loner,
            ["helpdesk"] = helpdesk,
            ["approver"] = approver,
            ["member of the tenant"] = member,
            ["owner of the tenant"] = owner,
            ["admin"] = admin,
        });
    }

    private async Task<long> LastDenialIdAsync()
    {
        await using var db = Host.NewDb();
        return await db.AuditEntries.Where(e => e.Action == AuditActions.AccessDenied).MaxAsync(e => (long?)e.Id, Ct) ?? 0;
    }

    /// <summary>Calls the method with arguments that aim at the world's targets; returns what it threw, or null.</summary>
    private static async Task<Exception?> CallAsync(object service, MethodInfo method, Actor actor, World world)
    {
        var arguments = method.GetParameters().Select(p => Argument(p, actor, world)).ToArray();
        try
        {
            var result = method.Invoke(service, arguments);
            if (result is Task task)
                await task;
            return null;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            return e.InnerException;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private static object? Argument(ParameterInfo parameter, Actor actor, World world)
    {
        var type = parameter.ParameterType;
        var name = parameter.Name ?? "";
        if (type == typeof(Actor))
            return actor;
        if (type == typeof(CancellationToken))
            return TestContext.Current.CancellationToken;
        if (type == typeof(Guid) || type == typeof(Guid?))
        {
            return name switch
            {
                "tenantId" => world.TenantId,
                "resourceId" => world.ResourceId,
                "requestId" => world.RequestId,
                "operationId" => world.OperationId,
                _ => Guid.NewGuid(),
            };
        }

        if (type == typeof(IReadOnlyCollection<Guid>))
            return new List<Guid> { world.RequestId };
        if (type == typeof(IReadOnlyCollection<string>))
            return new List<string> { GlobalRoles.Approver };
        if (type == typeof(string))
            return name == "userId" ? world.UserId : name.Contains("email", StringComparison.OrdinalIgnoreCase) ? "someone@test.local" : "probe";
        if (type == typeof(RequestDraft))
            return new RequestDraft { Kind = RequestKind.NewVm, TenantId = world.TenantId, Name = "probe-two", LeaseDays = 7 };
        if (type == typeof(AuditFilter))
            return new AuditFilter(TenantId: world.TenantId);
        if (type == typeof(OperationKind))
            return OperationKind.Start;
        if (type == typeof(Stream))
            return Stream.Null;
        return Build(type);
    }

    /// <summary>A value of any other type: true, 1, an enum's first value, or a record built from such values.</summary>
    private static object? Build(Type type)
    {
        if (Nullable.GetUnderlyingType(type) is { } underlying)
            return Build(underlying);
        if (type == typeof(bool))
            return true;
        if (type == typeof(string))
            return "probe";
        if (type.IsEnum)
            return Enum.GetValues(type).GetValue(0);
        if (type.IsPrimitive || type == typeof(decimal))
            return Convert.ChangeType(1, type, System.Globalization.CultureInfo.InvariantCulture);
        if (type == typeof(TimeSpan))
            return TimeSpan.FromHours(1);
        if (type.IsGenericType && type.GetGenericTypeDefinition() is var open
            && (open == typeof(IReadOnlyList<>) || open == typeof(IReadOnlyCollection<>) || open == typeof(List<>) || open == typeof(IEnumerable<>)))
            return Activator.CreateInstance(typeof(List<>).MakeGenericType(type.GetGenericArguments()));
        if (type.GetConstructor(Type.EmptyTypes) is { } empty)
            return empty.Invoke(null);
        var constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
        return constructor.Invoke([.. constructor.GetParameters().Select(p => p.HasDefaultValue ? p.DefaultValue : Build(p.ParameterType))]);
    }

    private static string Name(MethodInfo method) => $"{method.DeclaringType!.Name}.{method.Name}";
}
