using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;
using VirtPortal.Core.Webhooks;
using VirtPortal.Tests.Webhooks;

namespace VirtPortal.Core.Tests.Webhooks;

/// <summary>
/// A portal whose webhooks may reach 127.0.0.1 (the test receivers), with short retries on the fake clock, and
/// tenant Acme with an owner and a member. The dispatcher is run pass by pass, as its service would.
/// </summary>
public abstract class WebhookTestBase : IAsyncLifetime
{
    private PortalTestHost? host;

    protected PortalTestHost Host => host ?? throw new InvalidOperationException("The host starts before each test.");

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected Actor Owner { get; private set; } = null!;

    protected Actor Member { get; private set; } = null!;

    protected Guid Acme { get; private set; }

    protected WebhookService Webhooks => Host.Services.GetRequiredService<WebhookService>();

    protected WebhookDispatcher Dispatcher => Host.Services.GetRequiredService<WebhookDispatcher>();

    protected virtual int MaxAttempts => 3;

    public async ValueTask InitializeAsync()
    {
        host = await PortalTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Webhooks:AllowPrivateTargets"] = "true",
            ["Webhooks:FirstRetryDelay"] = "00:00:10",
            ["Webhooks:MaxRetryDelay"] = "00:01:00",
            ["Webhooks:MaxAttempts"] = MaxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Webhooks:Timeout"] = "00:00:05",
        });
        Owner = await Host.CreateUserAsync("owner@acme.test");
        Member = await Host.CreateUserAsync("member@acme.test");
        Acme = await Host.CreateTenantAsync("Acme", (Owner, TenantRole.Owner), (Member, TenantRole.Member));
    }

    public async ValueTask DisposeAsync()
    {
        if (host is not null)
            await host.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>A receiver on the fake clock, and Acme's subscription to it (its secret given to the receiver).</summary>
    protected async Task<(WebhookReceiver Receiver, WebhookView Subscription)> SubscribeAsync(params string[] events)
    {
        var receiver = new WebhookReceiver(Host.Time.GetUtcNow);
        var created = await Webhooks.CreateAsync(Owner, Acme, new WebhookDraft(receiver.Url, events.Length > 0 ? events : ["*"]), Ct);
        receiver.Secret = created.Secret;
        return (receiver, created.Subscription);
    }

    /// <summary>A VM of Acme, added as provisioning adds one.</summary>
    protected async Task<Resource> AddVmAsync(string name = "web-1")
    {
        var now = Host.Time.GetUtcNow();
        var vm = new Resource
        {
            Id = Guid.CreateVersion7(now), TenantId = Acme, Kind = ResourceKind.Vm, Name = name, VCpus = 1, RamMiB = 512, DiskGiB = 1,
            State = ResourceState.Provisioning, CreatedAt = now, LeaseEndsAt = now.AddDays(7), Version = 1,
        };
        await using var db = Host.NewDb();
        db.Resources.Add(vm);
        await db.SaveChangesAsync(Ct);
        return vm;
    }

    /// <summary>Moves the VM to a state, as its lifecycle does (state and version in one SaveChanges).</summary>
    protected async Task MoveAsync(Guid vmId, ResourceState state)
    {
        await using var db = Host.NewDb();
        var vm = await db.Resources.SingleAsync(r => r.Id == vmId, Ct);
        vm.State = state;
        vm.Version++;
        await db.SaveChangesAsync(Ct);
    }

    protected async Task<List<WebhookDelivery>> DeliveriesAsync(Guid subscriptionId)
    {
        await using var db = Host.NewDb();
        return await db.WebhookDeliveries.AsNoTracking().Include(d => d.Event).Where(d => d.SubscriptionId == subscriptionId)
            .OrderBy(d => d.EventSequence).ThenBy(d => d.Id).ToListAsync(Ct);
    }
}
