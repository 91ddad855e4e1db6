using Bunit;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using VirtPortal.Web.Security;

namespace VirtPortal.Web.Tests;

/// <summary>
/// Base for component tests: loose JS interop (MudBlazor calls JS that a test does not need) and
/// MudBlazor without transitions, so what a click shows is in the markup at once.
/// </summary>
public abstract class PortalComponentTest : BunitContext
{
    protected PortalComponentTest()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices(options =>
        {
            options.SnackbarConfiguration.ShowTransitionDuration = 0;
            options.SnackbarConfiguration.HideTransitionDuration = 0;
            options.PopoverOptions.Duration = TimeSpan.Zero;
            options.PopoverOptions.Delay = TimeSpan.Zero;
        });
    }

    /// <summary>
    /// bunit's fake authorization and a principal it builds, but the portal's own policies evaluated
    /// against that principal's role claims: bunit's fake service would grant any policy it is told to,
    /// which would test bunit, not our policies.
    /// </summary>
    protected BunitAuthorizationContext AddPortalAuthorization()
    {
        var authorization = AddAuthorization();
        Services.AddPortalAuthorization();
        Services.AddSingleton<IAuthorizationPolicyProvider, DefaultAuthorizationPolicyProvider>();
        Services.AddTransient<IAuthorizationService, DefaultAuthorizationService>();
        return authorization;
    }

    /// <summary>Renders as an interactive server circuit does. Call once every service is registered.</summary>
    protected void UseInteractiveServerRenderer() => SetRendererInfo(new RendererInfo("Server", true));
}
