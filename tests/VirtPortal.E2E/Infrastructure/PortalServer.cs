using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace VirtPortal.E2E.Infrastructure;

/// <summary>
/// The real portal on a real Kestrel port, on its own SQLite file, with demo mode on (one account per
/// role) and a known bootstrap admin. Open sessions revalidate every 2 s so lockouts show quickly.
/// </summary>
public sealed class PortalServer : WebApplicationFactory<Program>
{
    public const string AdminEmail = "root@e2e.virtportal.local";
    public const string AdminPassword = "e2e-admin-password";
    public const string DemoPassword = "virtportal-demo";

    private readonly string dataDirectory = Path.Combine(Path.GetTempPath(), "virtportal-e2e-" + Guid.NewGuid().ToString("N"));
    private readonly string firstRun;

    /// <param name="firstRun">"simulated" (browser journeys), or "libvirt" for journeys that need a real guest on this machine's qemu:///system.</param>
    public PortalServer(string firstRun = "simulated")
    {
        this.firstRun = firstRun;
        UseKestrel(0);
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        BaseUrl = addresses.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/');
    }

    public string BaseUrl { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseSetting("urls", "http://127.0.0.1:0");
        builder.UseSetting("ConnectionStrings:Portal", $"Data Source={Path.Combine(dataDirectory, "portal.db")}");
        builder.UseSetting("DataDirectory", dataDirectory);
        builder.UseSetting("Bootstrap:AdminEmail", AdminEmail);
        builder.UseSetting("Bootstrap:AdminPassword", AdminPassword);
        builder.UseSetting("Demo:Enabled", "true");
        builder.UseSetting("Demo:Password", DemoPassword);
        // Every sign-in of the run comes from 127.0.0.1: far above what the journeys send.
        builder.UseSetting("Api:RateLimits:SignInPerAddress", "1000000");
        builder.UseSetting("Identity:RevalidationInterval", "00:00:02");
        // Charts fill at 1 Hz, as the portal can run; the default is 5 s.
        builder.UseSetting("Monitoring:Interval", "00:00:01");
        // Browser journeys run on the simulated host even where a local libvirt answers, unless they ask for libvirt.
        builder.UseSetting("Hosts:FirstRun", firstRun);
        // Never this machine's own PostgreSQL: a journey that needs one brings its own.
        builder.UseSetting("Databases:FirstRun", "none");
        // A database's health and figures every 2 s rather than 15, so its page's charts fill while a journey watches.
        builder.UseSetting("Databases:CheckInterval", "00:00:02");
        // Webhook journeys' receivers listen on 127.0.0.1, as an admin would allow for a receiver inside the network.
        builder.UseSetting("Webhooks:AllowPrivateTargets", "true");
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && Directory.Exists(dataDirectory))
            Directory.Delete(dataDirectory, recursive: true);
    }
}
