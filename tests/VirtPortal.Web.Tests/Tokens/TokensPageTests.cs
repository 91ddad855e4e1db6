using AngleSharp.Dom;
using Bunit;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using VirtPortal.Core.Tokens;
using VirtPortal.Core.Users;
using VirtPortal.Web.Components.Pages.Tokens;

namespace VirtPortal.Web.Tests.Tokens;

/// <summary>The user's API tokens page against the real token service on a real SQLite file.</summary>
public sealed class TokensPageTests : PortalCoreComponentTest
{
    private Actor admin = default!;

    public TokensPageTests()
        : base(services: s => s.Configure<ApiTokenOptions>(o => o.MaxTokenLifetime = TimeSpan.FromDays(60)))
    {
    }

    private ApiTokenService Tokens => Services.GetRequiredService<ApiTokenService>();

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        JSInterop.SetupModule("./js/clipboard.js").Setup<bool>("copyText", _ => true).SetResult(true);
        await using var scope = Services.CreateAsyncScope();
        var user = await scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>().FindByEmailAsync(AdminEmail);
        SignIn(user!.Id, AdminEmail, GlobalRoles.Admin);
        admin = new Actor(user.Id, AdminEmail, new HashSet<string> { GlobalRoles.Admin });
    }

    [Fact]
    public async Task A_new_token_is_shown_once_and_listed_by_its_first_characters_only()
    {
        var page = Render<TokensPage>();
        page.WaitForElement("[data-testid=tokens-empty]");

        page.Find("[data-testid=token-name]").Input("ci-pipeline");
        await page.Find("[data-testid=token-create]").ClickAsync(new());

        var secret = page.WaitForElement("[data-testid=token-secret]").GetAttribute("value")!;
        Assert.StartsWith(ApiTokenService.Prefix, secret, StringComparison.Ordinal);
        var row = page.WaitForElement("[data-testid=token-ci-pipeline]").TextContent;
        Assert.Contains(secret[..8] + "…", row, StringComparison.Ordinal);
        Assert.Contains("every tenant, read-write", row, StringComparison.Ordinal);
        Assert.Equal("never", page.Find("[data-testid=token-ci-pipeline-last-used]").TextContent.Trim());

        // Another visit to the page (a new circuit) lists the token and never shows its secret again.
        var again = Render<TokensPage>();
        again.WaitForElement("[data-testid=token-ci-pipeline]");
        Assert.DoesNotContain(secret, again.Markup, StringComparison.Ordinal);
        Assert.Empty(again.FindAll("[data-testid=token-secret]"));
    }

    [Fact]
    public async Task A_token_without_a_name_is_not_made_and_the_field_says_why()
    {
        var page = Render<TokensPage>();
        page.WaitForElement("[data-testid=tokens-empty]");

        await page.Find("[data-testid=token-create]").ClickAsync(new());

        page.WaitForAssertion(() => Assert.Contains("Enter a name that says what the token is for.", FieldText(page, "token-name"), StringComparison.Ordinal));
        Assert.Empty(page.FindAll("[data-testid=token-secret]"));
        Assert.Empty(await Tokens.ListAsync(admin, Ct));
    }

    [Fact]
    public async Task The_read_only_box_makes_a_read_only_token()
    {
        var page = Render<TokensPage>();
        page.WaitForElement("[data-testid=tokens-empty]");

        page.Find("[data-testid=token-name]").Input("dashboard");
        await page.Find("[data-testid=token-read-only]").ChangeAsync(new() { Value = true });
        await page.Find("[data-testid=token-create]").ClickAsync(new());

        page.WaitForElement("[data-testid=token-secret]");
        var token = Assert.Single(await Tokens.ListAsync(admin, Ct));
        Assert.True(token.ReadOnly);
        Assert.Contains("read-only", page.Find("[data-testid=token-dashboard]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_expiry_choices_end_at_the_configured_maximum()
    {
        var popovers = Render<MudPopoverProvider>();
        var page = Render<TokensPage>();
        page.WaitForElement("[data-testid=tokens-empty]");

        await page.Find("[data-testid=token-expiry]").Closest(".mud-input-control")!.MouseDownAsync(new());

        popovers.WaitForAssertion(() => Assert.Equal(["7 days", "30 days", "60 days"],
            popovers.FindAll(".mud-list-item").Select(i => i.TextContent.Trim()).ToArray()));
    }

    [Fact]
    public async Task A_token_used_by_a_script_shows_when_and_revoking_it_asks_first()
    {
        var made = await Tokens.CreateAsync(admin, new ApiTokenDraft("nightly", DateTimeOffset.UtcNow.AddDays(7)), Ct);
        await Tokens.CheckAsync(made.Secret, Ct);
        var dialogs = Render<MudDialogProvider>();
        var page = Render<TokensPage>();

        page.WaitForAssertion(() => Assert.EndsWith("UTC", page.Find("[data-testid=token-nightly-last-used]").TextContent.Trim(), StringComparison.Ordinal));
        var asking = page.Find("[data-testid=token-nightly-revoke]").ClickAsync(new());
        dialogs.WaitForAssertion(() => Assert.Contains("Revoke nightly?", dialogs.Markup, StringComparison.Ordinal));
        await dialogs.Find("[data-testid=confirm-action]").ClickAsync(new());
        await asking.WaitAsync(TimeSpan.FromSeconds(5), Ct);

        page.WaitForAssertion(() => Assert.Equal("Revoked", page.Find("[data-testid=token-nightly-state]").TextContent.Trim()));
        Assert.Empty(page.FindAll("[data-testid=token-nightly-revoke]"));
        Assert.Equal(ApiTokenRefusal.Revoked, (await Tokens.CheckAsync(made.Secret, Ct)).Refusal);
    }

    /// <summary>The text of the smallest block around a field that holds no other field: its label, value and message.</summary>
    private static string FieldText(IRenderedComponent<TokensPage> page, string testId)
    {
        IElement block = page.Find($"[data-testid={testId}]");
        while (block.ParentElement is { } parent && parent.QuerySelectorAll("input, textarea").Length == 1)
            block = parent;
        return block.TextContent;
    }
}
