using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Hosts;

namespace VirtPortal.Core.Tests.Hosts;

/// <summary><c>Hosts:List</c>: hosts named in configuration are registered at start-up instead of the first-run choice.</summary>
public sealed class HostConfigurationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly Dictionary<string, string?> TwoHosts = new()
    {
        ["Hosts:List:0:Name"] = "alpha",
        ["Hosts:List:0:Driver"] = "Simulated",
        ["Hosts:List:0:Uri"] = "simulated://alpha",
        ["Hosts:List:0:CpuOvercommit"] = "2",
        ["Hosts:List:1:Name"] = "beta",
        ["Hosts:List:1:Driver"] = "simulated",
        ["Hosts:List:1:Uri"] = "simulated://beta",
        ["Hosts:List:1:RamOvercommit"] = "1.5",
    };

    [Fact]
    public async Task Listed_hosts_are_registered_online_instead_of_the_first_run_demo_host()
    {
        await using var host = await PortalTestHost.StartAsync(TwoHosts);

        var hosts = await HostsAsync(host);

        Assert.Equal(["alpha", "beta"], hosts.Select(h => h.Name));
        Assert.All(hosts, h => Assert.Equal((HostState.Online, 32), (h.State, h.Cpus)));
        Assert.Equal((2.0, 1.0), (hosts[0].CpuOvercommit, hosts[0].RamOvercommit));
        Assert.Equal((4.0, 1.5), (hosts[1].CpuOvercommit, hosts[1].RamOvercommit));
        Assert.All(await host.AuditAsync(AuditActions.HostRegistered), e => Assert.StartsWith("from configuration", e.Details, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Starting_again_adds_only_what_is_missing_and_leaves_changed_and_unlisted_hosts_alone()
    {
        await using var host = await PortalTestHost.StartAsync(TwoHosts);
        var hosts = host.Services.GetRequiredService<HostService>();
        var admin = await host.AdminAsync();
        var alpha = (await hosts.ListAsync(admin, Ct)).Single(h => h.Name == "alpha");
        await hosts.UpdateAsync(admin, alpha.Id, alpha.ToInput() with { CpuOvercommit = 8 }, Ct);
        await hosts.AddAsync(admin, new HostInput("gamma", HostDriver.Simulated, "simulated://gamma", "", 4, 1), Ct);
        await using (var db = host.NewDb())
            await db.Hosts.Where(h => h.Name == "beta").ExecuteDeleteAsync(Ct);

        await host.InitializeAsync();

        var after = await HostsAsync(host);
        Assert.Equal(["alpha", "beta", "gamma"], after.Select(h => h.Name));
        Assert.Equal(8.0, after[0].CpuOvercommit);
        Assert.Equal(3, (await host.AuditAsync(AuditActions.HostRegistered)).Count(e => e.Details.StartsWith("from configuration", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_listed_host_matches_a_registered_one_by_name_whatever_the_case()
    {
        await using var host = await PortalTestHost.StartAsync(TwoHosts);
        await using (var db = host.NewDb())
            await db.Hosts.Where(h => h.Name == "alpha").ExecuteUpdateAsync(s => s.SetProperty(h => h.Name, "ALPHA"), Ct);

        await host.InitializeAsync();

        Assert.Equal(["ALPHA", "beta"], (await HostsAsync(host)).Select(h => h.Name));
    }

    [Theory]
    [InlineData("Hosts:List:0:Uri", "qemu:///system", "Hosts:List:0:Uri: A simulated host's URI is simulated://NAME")]
    [InlineData("Hosts:List:0:Name", "", "Hosts:List:0:Name: Enter a name for the host.")]
    [InlineData("Hosts:List:0:CpuOvercommit", "64", "Hosts:List:0:CpuOvercommit: The CPU overcommit ratio is between 0.1 and 32.")]
    [InlineData("Hosts:List:1:Name", "ALPHA", "Hosts:List:1:Name: 'ALPHA' is listed twice.")]
    [InlineData("Hosts:FirstRun", "sometimes", "Hosts:FirstRun is auto, simulated or libvirt")]
    public async Task A_bad_host_setting_stops_start_up_with_a_message_naming_the_key(string key, string value, string message)
    {
        await using var host = await PortalTestHost.StartAsync(new Dictionary<string, string?>(TwoHosts) { [key] = value }, initialize: false);

        var failure = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<HostOptions>>().Value);

        Assert.Contains(failure.Failures, f => f.StartsWith(message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_libvirt_host_in_the_list_stops_start_up_where_the_portal_has_no_libvirt_adapter()
    {
        await using var host = await PortalTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Hosts:List:0:Name"] = "kvm-1",
            ["Hosts:List:0:Uri"] = "qemu+ssh://root@kvm-1/system",
        }, initialize: false);

        var failure = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<HostOptions>>().Value);

        Assert.Contains("Hosts:List:0:Driver: This portal has no adapter for Libvirt hosts.", failure.Failures);
    }

    private static async Task<List<Host>> HostsAsync(PortalTestHost host)
    {
        await using var db = host.NewDb();
        return await db.Hosts.AsNoTracking().OrderBy(h => h.Name).ToListAsync(Ct);
    }
}
