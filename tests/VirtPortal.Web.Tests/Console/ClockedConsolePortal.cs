using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace VirtPortal.Web.Tests.Console;

/// <summary>
/// The console portal on a fake clock that only the test moves: ticket expiry, idle sessions and the
/// sign-in cookie's security-stamp refresh without sleeping. Background work that waits on the clock
/// (revalidation, the worker, the monitors) runs only when the test advances it.
/// </summary>
public sealed class ClockedConsolePortal : ConsolePortal
{
    // A field initializer runs before the base constructor, which starts the server.
    private readonly FakeTimeProvider clock = new(DateTimeOffset.UtcNow);

    public FakeTimeProvider Clock => clock;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services => services.AddSingleton<TimeProvider>(clock));
    }
}
