using VirtPortal.Libvirt;
using VirtPortal.Web.Api;
using VirtPortal.Web.Components;
using VirtPortal.Web.Components.Account;
using VirtPortal.Web.Components.Layout;
using VirtPortal.Web.Console;
using VirtPortal.Web.Hosting;
using VirtPortal.Web.Hubs;
using VirtPortal.Web.Security;

var builder = WebApplication.CreateBuilder(args);

var identity = builder.AddPortalCore();
builder.AddPortalIdentity(identity);
builder.Services.AddPortalLibvirt(builder.Configuration);
builder.Services.AddPortalAuthorization();
builder.Services.AddPortalUi();
builder.AddPortalLive();
builder.AddPortalConsole();
builder.AddPortalApi();
builder.Services.AddPortalRateLimits(builder.Configuration);
builder.Services.AddPortalReverseProxy(builder.Configuration);

var app = builder.Build();

await app.InitializePortalAsync();

app.UsePortalReverseProxy(builder.Configuration);
if (!app.Environment.IsDevelopment())
    app.UseExceptionHandler("/Error", createScopeForErrors: true);
if (builder.Configuration.ServesHttps())
{
    app.UseHsts();
    app.UseHttpsRedirection();
}

app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
app.UseAntiforgery();
app.UsePortalRateLimits();

app.MapStaticAssets();
app.MapPortalHealth();
app.MapPortalLive();
app.MapPortalConsole();
app.MapPortalMetrics();
app.MapThemeStylesheets();
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
app.MapAccountEndpoints();
app.MapDatabaseFilesApi();
app.MapPortalApi();

app.Run();
