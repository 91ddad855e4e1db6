using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using VirtPortal.Core.Users;

namespace VirtPortal.Web.Tests.Security;

/// <summary>Locking an account ends the sessions it already has, within Identity:RevalidationInterval.</summary>
public sealed class LockedUserSessionTests(LockedUserSessionTests.FastRevalidationPortal portal)
    : IClassFixture<LockedUserSessionTests.FastRevalidationPortal>
{
    private static readonly Uri Home = new("/", UriKind.Relative);

    [Fact]
    public async Task A_locked_users_cookie_stops_working_after_the_revalidation_interval()
    {
        const string member = "member@demo.virtportal.local";
        using var browser = await portal.SignInAsDemoAsync(member);
        using (var before = await browser.GetAsync(Home, TestContext.Current.CancellationToken))
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        await portal.Services.GetRequiredService<UserAdministration>()
            .SetLockedAsync(await portal.AdminActorAsync(), await portal.UserIdAsync(member), locked: true, TestContext.Current.CancellationToken);
        // The cookie is re-checked against the user's security stamp once it is older than the interval.
        portal.Clock.Advance(TimeSpan.FromSeconds(2));

        using var after = await browser.GetAsync(Home, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.Equal(AccountForms.LoginPath, after.RedirectTarget().AbsolutePath);
    }

    /// <summary>A portal that re-checks sessions every second, on a clock the test moves.</summary>
    public sealed class FastRevalidationPortal() : PortalAppFactory(null, new Dictionary<string, string?>
    {
        ["Identity:RevalidationInterval"] = "00:00:01",
    })
    {
        public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(Clock));
        }
    }
}
