using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Common;
using VirtPortal.Core.Data;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;
using VirtPortal.Web.Console;

namespace VirtPortal.Web.Tests.Console;

/// <summary>What the VM page is offered: a ticket for those the access table lets open the console, or why not.</summary>
public sealed class ConsoleOfferTests(ConsolePortal portal) : IClassFixture<ConsolePortal>, IAsyncDisposable
{
    private readonly RfbServer vnc = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(null, false)]
    [InlineData(GlobalRoles.Admin, false)]
    [InlineData(GlobalRoles.Helpdesk, true)]
    [InlineData(GlobalRoles.Approver, true)]
    public async Task Members_and_admins_get_full_control_and_the_other_staff_view_only(string? role, bool viewOnly)
    {
        var (member, _, vm) = await portal.MemberWithVncVmAsync(vnc.Port);
        var viewer = role is null ? member : await portal.CreateUserAsync(role);

        var offer = await portal.OfferAsync(await portal.SignInAsync(viewer), vm);

        Assert.Equal(viewOnly, offer.ViewOnly);
        Assert.Null(offer.Unavailable);
        Assert.Equal(43, offer.Ticket!.Length);
    }

    [Fact]
    public async Task Someone_outside_the_tenant_is_refused_as_for_an_unknown_vm_and_both_are_audited()
    {
        var (_, tenant, vm) = await portal.MemberWithVncVmAsync(vnc.Port);
        var outsider = await portal.CreateUserAsync();
        var cookies = await portal.SignInAsync(outsider);

        var forbidden = await Assert.ThrowsAsync<PortalAccessDeniedException>(() => portal.OfferAsync(cookies, vm));
        var unknown = await Assert.ThrowsAsync<PortalAccessDeniedException>(() => portal.OfferAsync(cookies, Guid.NewGuid()));

        Assert.Equal(unknown.Message, forbidden.Message);
        var denied = await portal.AuditOfAsync(outsider, AuditActions.AccessDenied);
        Assert.Equal(2, denied.Count);
        Assert.Equal(tenant, denied[0].TenantId);
        Assert.StartsWith("open the console", denied[0].Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_vm_on_the_simulated_host_gets_no_ticket_and_the_reason_in_a_sentence()
    {
        var member = await portal.CreateUserAsync();
        var tenant = await portal.CreateTenantAsync((member, TenantRole.Member));
        var vm = await SimulatedVmAsync(tenant);

        var offer = await portal.OfferAsync(await portal.SignInAsync(member), vm);

        Assert.Null(offer.Ticket);
        Assert.Matches("^This VM runs on the simulated host \"[^\"]+\", which has no console\\.$", offer.Unavailable);
    }

    [Fact]
    public async Task A_vm_that_is_not_running_gets_no_ticket_and_one_that_stopped_after_its_ticket_is_refused_at_the_handshake()
    {
        var member = await portal.CreateUserAsync();
        var tenant = await portal.CreateTenantAsync((member, TenantRole.Member));
        var vms = await portal.CreateVncVmsAsync(tenant, vnc.Port, vnc.Port);
        var cookies = await portal.SignInAsync(member);
        var ticket = await portal.TicketAsync(cookies, vms[1]);
        await SetStateAsync(vms[0], ResourceState.Shutoff);
        await SetStateAsync(vms[1], ResourceState.Shutoff);

        var offer = await portal.OfferAsync(cookies, vms[0]);
        using var socket = ConsolePortal.Socket(cookies, ticket, portal.OwnOrigin);

        Assert.Equal(new ConsoleOffer(null, null, false, "The console opens when the VM is running."), offer);
        Assert.Equal(HttpStatusCode.Conflict, await portal.RefusedAsync(socket, vms[1]));
        Assert.Equal("The console opens when the VM is running.", Assert.Single(await portal.AuditOfAsync(member, AuditActions.ConsoleRefused)).Details);
    }

    [Fact]
    public async Task The_ticket_endpoint_offers_what_the_page_gets_to_the_signed_in_user_from_a_trusted_page_only()
    {
        var (member, _, vm) = await portal.MemberWithVncVmAsync(vnc.Port);
        var outsider = await portal.CreateUserAsync();
        var cookies = await portal.SignInAsync(member);

        using var offered = await PostTicketAsync(cookies, vm, portal.OwnOrigin);
        var offer = await offered.Content.ReadFromJsonAsync<ConsoleOffer>(Ct);
        using var foreign = await PostTicketAsync(cookies, vm, "https://evil.example");
        using var anonymous = await PostTicketAsync(null, vm, portal.OwnOrigin);
        using var refused = await PostTicketAsync(await portal.SignInAsync(outsider), vm, portal.OwnOrigin);

        Assert.Equal(HttpStatusCode.OK, offered.StatusCode);
        Assert.Equal("no-store", offered.Headers.CacheControl?.ToString());
        Assert.False(offer!.ViewOnly);
        using (var socket = await portal.ConnectAsync(cookies, vm, offer.Ticket))
            Assert.Equal(System.Net.WebSockets.WebSocketState.Open, socket.State);
        Assert.Equal(HttpStatusCode.Forbidden, foreign.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Single(await portal.AuditOfAsync(outsider, AuditActions.AccessDenied));
    }

    private async Task<HttpResponseMessage> PostTicketAsync(CookieContainer? cookies, Guid vm, string origin)
    {
        using var handler = new HttpClientHandler { CookieContainer = cookies ?? new CookieContainer(), AllowAutoRedirect = false };
        using var http = new HttpClient(handler) { BaseAddress = portal.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"/console/{vm}/ticket", UriKind.Relative));
        request.Headers.Add("Origin", origin);
        return await http.SendAsync(request, Ct);
    }

    private async Task<Guid> SimulatedVmAsync(Guid tenantId)
    {
        await using var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        var host = await db.Hosts.FirstAsync(h => h.Driver == HostDriver.Simulated, Ct);
        var now = DateTimeOffset.UtcNow;
        var resource = new Resource
        {
            Id = Guid.CreateVersion7(now), TenantId = tenantId, Name = $"sim-{Guid.NewGuid():N}"[..12], Kind = ResourceKind.Vm, HostId = host.Id,
            VCpus = 1, RamMiB = 128, State = ResourceState.Running, CreatedAt = now, LeaseEndsAt = now.AddDays(30), Version = 1,
        };
        await portal.Services.GetRequiredService<HypervisorRegistry>().For(host)
            .CreateAsync(new DomainSpec(resource.Id, resource.Name, 1, 128, 1, "tiny"), Ct);
        db.Resources.Add(resource);
        await db.SaveChangesAsync(Ct);
        return resource.Id;
    }

    private async Task SetStateAsync(Guid vm, ResourceState state)
    {
        await using var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        await db.Resources.Where(r => r.Id == vm).ExecuteUpdateAsync(r => r.SetProperty(x => x.State, state), Ct);
    }

    public ValueTask DisposeAsync() => vnc.DisposeAsync();
}
