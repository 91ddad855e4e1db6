using Bunit;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Data;
using VirtPortal.Core.Demo;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Provisioning.Simulated;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Users;
using VirtPortal.Web.Components.Pages.Requests;

namespace VirtPortal.Web.Tests.Requests;

/// <summary>A request the host refused, as each role reads it on the request page.</summary>
public sealed class RequestFailureTests() : PortalCoreComponentTest(demo: true)
{
    private const string HostWords = "internal error: process exited while connecting to monitor: Could not access KVM kernel module: Permission denied";

    private Guid requestId;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        var member = await DemoActorAsync("member@demo.virtportal.local");
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        var tenant = await db.Tenants.SingleAsync(t => t.Name == DemoAccounts.AcmeTenant, Ct);
        var template = await db.VmTemplates.SingleAsync(t => t.Name == DemoCatalog.TestGuestTemplate, Ct);
        var size = await db.VmSizes.SingleAsync(z => z.Name == "small", Ct);
        var demoHost = await db.Hosts.AsNoTracking().SingleAsync(Ct);
        var hypervisor = (SimulatedHypervisor)Services.GetRequiredService<HypervisorRegistry>().For(demoHost);
        hypervisor.Faults.Fail("Start", () => new HypervisorRefusedException(HostWords));

        requestId = await Services.GetRequiredService<RequestDrafts>().SubmitAsync(member, new RequestDraft
        {
            Kind = RequestKind.NewVm, TenantId = tenant.Id, Name = "kvm-victim", TemplateId = template.Id, SizeId = size.Id,
            LeaseDays = 7, Justification = "trying the portal",
        }, Ct);
        Assert.True(await Services.GetRequiredService<ProvisioningService>().RunOnceAsync("worker", Ct));
    }

    [Fact]
    public async Task The_member_reads_one_plain_sentence_with_the_request_id_and_never_the_hosts_words()
    {
        var member = await DemoActorAsync("member@demo.virtportal.local");
        SignIn(member.UserId, member.Name);

        var page = Render<RequestPage>(p => p.Add(x => x.RequestId, requestId));

        page.WaitForAssertion(() => Assert.Equal(
            $"The host refused to create the VM; an administrator has been told. Request {requestId}.",
            page.Find("[data-testid=request-reason]").TextContent.Trim()));
        Assert.Empty(page.FindAll("[data-testid=request-failure-detail]"));
        Assert.DoesNotContain("KVM", page.Markup, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("helpdesk@demo.virtportal.local", GlobalRoles.Helpdesk)]
    [InlineData("admin@demo.virtportal.local", GlobalRoles.Admin)]
    public async Task Helpdesk_and_admins_also_read_the_hosts_own_words(string email, string role)
    {
        var staff = await DemoActorAsync(email);
        SignIn(staff.UserId, staff.Name, role);

        var page = Render<RequestPage>(p => p.Add(x => x.RequestId, requestId));

        page.WaitForAssertion(() => Assert.Contains(HostWords, page.Find("[data-testid=request-failure-detail]").TextContent, StringComparison.Ordinal));
        Assert.StartsWith("The host refused to create the VM", page.Find("[data-testid=request-reason]").TextContent.Trim(), StringComparison.Ordinal);
    }

    private async Task<Actor> DemoActorAsync(string email)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var user = await users.FindByEmailAsync(email) ?? throw new InvalidOperationException(email + " is not seeded");
        return new Actor(user.Id, email, (await users.GetRolesAsync(user)).ToHashSet());
    }
}
