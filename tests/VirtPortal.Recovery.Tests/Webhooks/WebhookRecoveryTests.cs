using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Tokens;
using VirtPortal.Core.Users;
using VirtPortal.Core.Webhooks;
using VirtPortal.Recovery.Harness;
using VirtPortal.Tests.Webhooks;

namespace VirtPortal.Recovery.Tests.Webhooks;

/// <summary>
/// The portal process SIGKILLed while a receiver has a delivery in hand and has not answered, then started again
/// on the same database: the delivery goes out again, with the same event id, and is recorded as delivered. The
/// portal runs its simulated host only (no libvirt); its log is kept under bin/CONFIG/net10.0/recovery-logs/.
/// </summary>
public sealed class WebhookRecoveryTests : IAsyncDisposable
{
    private const string AdminEmail = "admin@recovery.virtportal.local";

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static readonly string[] ResourceEvents = ["resource.*"];

    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("virtportal-webhook-recovery-");
    private readonly HarnessLog log;
    private readonly List<PortalProcess> processes = [];

    public WebhookRecoveryTests()
    {
        var logs = Path.Combine(AppContext.BaseDirectory, "recovery-logs");
        Directory.CreateDirectory(logs);
        log = new HarnessLog(Path.Combine(logs, $"{DateTime.Now:yyyyMMdd-HHmmss}-webhook-killed-mid-delivery.log"), null);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string DatabasePath => Path.Combine(directory.FullName, "portal.db");

    [Fact]
    public async Task A_portal_killed_while_a_receiver_holds_its_delivery_sends_it_again_after_its_restart()
    {
        await using var receiver = new WebhookReceiver();
        var first = await StartAsync();
        await using var database = PortalDatabase.Open(DatabasePath);
        using var api = await AdminClientAsync(database, first.BaseAddress!);
        using (var created = await api.PostAsJsonAsync("/api/v1/webhooks", new { url = receiver.Url, events = ResourceEvents }, Ct))
        {
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync(Ct));
            receiver.Secret = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("secret").GetString();
        }

        // The receiver takes the POST and does not answer; the portal dies meanwhile.
        receiver.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var vm = await AddVmAsync(database);
        await receiver.WaitForArrivalsAsync(1, Bound);
        await first.KillAsync();
        log.Say($"portal#1 killed while webhook {receiver.Arrivals[0]} was in the receiver's hands");
        var held = await DeliveryAsync(database, receiver.Arrivals[0]);
        Assert.Equal((WebhookDeliveryState.Pending, 1), (held.State, held.Attempts));
        var releasing = receiver.Hold;
        receiver.Hold = null;
        releasing.SetResult();

        await StartAsync();
        // Events of one entity go in order: the second POST is the held event again, before anything newer of that VM.
        await receiver.WaitForArrivalsAsync(2, Bound);
        var delivered = await DeliveredAsync(database, receiver.Arrivals[0]);

        Assert.Equal(receiver.Arrivals[0], receiver.Arrivals[1]);
        var again = receiver.Received.Where(r => r.Id == receiver.Arrivals[0]).ToList();
        Assert.Equal(2, again.Count);
        Assert.All(again, r => Assert.True(r.Verified, r.Problem));
        Assert.All(again, r => Assert.Equal(("resource.created", vm), (r.Type, r.EntityId)));
        Assert.Equal((2, 200), (delivered.Attempts, delivered.ResponseStatus ?? 0));
    }

    private async Task<PortalProcess> StartAsync()
    {
        var portal = PortalProcess.Launch(processes.Count + 1, new Dictionary<string, string>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["ConnectionStrings:Portal"] = $"Data Source={DatabasePath}",
            ["DataDirectory"] = directory.FullName,
            ["Bootstrap:AdminEmail"] = AdminEmail,
            ["Bootstrap:AdminPassword"] = "recovery-harness-admin",
            ["Demo:Enabled"] = "false",
            ["Hosts:FirstRun"] = "simulated",
            ["Databases:FirstRun"] = "none",
            ["Webhooks:AllowPrivateTargets"] = "true",
            ["Webhooks:Timeout"] = "00:00:02",
            // The harness writes its changes from another process, whose commits cannot wake this one's dispatcher.
            ["Webhooks:PollInterval"] = "00:00:00.200",
        }, log);
        processes.Add(portal);
        await portal.WaitUntilReadyAsync(Bound, Ct);
        return portal;
    }

    /// <summary>A client of the bootstrap admin, with a token made the way the tokens page makes one.</summary>
    private static async Task<HttpClient> AdminClientAsync(PortalDatabase database, Uri address)
    {
        string adminId;
        await using (var db = database.NewDb())
            adminId = await db.Users.Where(u => u.Email == AdminEmail).Select(u => u.Id).SingleAsync(Ct);
        var admin = new Actor(adminId, AdminEmail, new HashSet<string> { GlobalRoles.Admin });
        var token = await database.Services.GetRequiredService<ApiTokenService>().CreateAsync(admin, new ApiTokenDraft("recovery", DateTimeOffset.UtcNow.AddDays(1), null, false), Ct);
        var client = new HttpClient { BaseAddress = address };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Secret);
        return client;
    }

    /// <summary>A tenant and a VM of it, written by this process: the VM's event goes in the outbox with it.</summary>
    private static async Task<Guid> AddVmAsync(PortalDatabase database)
    {
        var tenant = await database.Services.GetRequiredService<TenantService>().CreateAsync(Actor.System, "Hooks", null, TenantQuota.Default, Ct);
        var now = DateTimeOffset.UtcNow;
        await using var db = database.NewDb();
        var vm = new Resource
        {
            Id = Guid.CreateVersion7(now), TenantId = tenant, Kind = ResourceKind.Vm, Name = "held-1", VCpus = 1, RamMiB = 512, DiskGiB = 1,
            State = ResourceState.Running, CreatedAt = now, LeaseEndsAt = now.AddDays(1), Version = 1,
        };
        db.Resources.Add(vm);
        await db.SaveChangesAsync(Ct);
        return vm.Id;
    }

    /// <summary>The one delivery of the event the receiver got first (later changes, such as what the restarted portal observes, have their own).</summary>
    private static async Task<WebhookDelivery> DeliveryAsync(PortalDatabase database, string eventId)
    {
        await using var db = database.NewDb();
        return await db.WebhookDeliveries.AsNoTracking().SingleAsync(d => d.Event!.Id == Guid.Parse(eventId), Ct);
    }

    /// <summary>The delivery once the portal recorded it delivered.</summary>
    private static async Task<WebhookDelivery> DeliveredAsync(PortalDatabase database, string eventId)
    {
        var deadline = DateTimeOffset.UtcNow + Bound;
        while (true)
        {
            var delivery = await DeliveryAsync(database, eventId);
            if (delivery.State == WebhookDeliveryState.Succeeded)
                return delivery;
            if (DateTimeOffset.UtcNow > deadline)
                throw new TimeoutException($"The restarted portal did not record the webhook delivered: {delivery.State}, {delivery.Attempts} attempts, {delivery.LastError}.");
            await Task.Delay(50, Ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var portal in processes)
            await portal.DisposeAsync();
        log.Dispose();
        directory.Delete(recursive: true);
    }
}
