using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Users;

namespace VirtPortal.Web.Tests.Security;

/// <summary>Self-registration is off unless Identity:AllowSelfRegistration says otherwise.</summary>
public sealed class RegistrationTests(PortalAppFactory portal) : IClassFixture<PortalAppFactory>
{
    private static readonly Uri RegisterPage = new("/Account/Register", UriKind.Relative);

    [Fact]
    public async Task The_register_page_is_not_found_when_self_registration_is_off()
    {
        using var browser = portal.CreateBrowser();

        using var response = await browser.GetAsync(RegisterPage, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Null((await response.ReadHtmlAsync()).QuerySelector("input[name='Input.ConfirmPassword']"));
    }

    // The form is not on the page, so Blazor has no handler to post to; the page's own check is the second line.
    [Fact]
    public async Task A_crafted_registration_post_creates_no_user_when_self_registration_is_off()
    {
        const string email = "intruder@example.test";
        using var browser = portal.CreateBrowser();
        var fields = await browser.GetLoginFormFieldsAsync();
        fields["_handler"] = "register";
        fields["Input.Email"] = email;
        fields["Input.DisplayName"] = "Intruder";
        fields["Input.Password"] = "a-long-enough-password";
        fields["Input.ConfirmPassword"] = "a-long-enough-password";
        var usersBefore = await CountUsersAsync();

        using var content = new FormUrlEncodedContent(fields);
        using var response = await browser.PostAsync(RegisterPage, content, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await using var scope = portal.Services.CreateAsyncScope();
        Assert.Null(await scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>().FindByEmailAsync(email));
        Assert.Equal(usersBefore, await CountUsersAsync());
    }

    private async Task<int> CountUsersAsync()
    {
        await using var scope = portal.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>().Users.CountAsync(TestContext.Current.CancellationToken);
    }
}
