using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using MudBlazor.Services;
using VirtPortal.Core;
using VirtPortal.Core.Bootstrap;
using VirtPortal.Core.Data;
using VirtPortal.Core.Users;
using VirtPortal.Web.Components.Account;
using VirtPortal.Web.Security;

namespace VirtPortal.Web.Hosting;

public static partial class PortalHostingExtensions
{
    public const string ConnectionStringName = "Portal";

    /// <summary>The database (SQLite file under data/ by default), the domain services and /healthz.</summary>
    public static IdentityBuilder AddPortalCore(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configured = builder.Configuration.GetConnectionString(ConnectionStringName)
            ?? throw new InvalidOperationException($"ConnectionStrings:{ConnectionStringName} is not set.");
        var connectionString = PortalCoreServiceCollectionExtensions.ResolveSqliteConnectionString(configured, builder.Environment.ContentRootPath);

        // Demo mode is on in Development unless configuration says otherwise.
        var developing = builder.Environment.IsDevelopment();
        builder.Services.PostConfigure<DemoOptions>(o => o.Enabled ??= developing);
        var contentRoot = builder.Environment.ContentRootPath;
        var dataDirectory = builder.Configuration["DataDirectory"] ?? "data";
        builder.Services.PostConfigure<VirtPortal.Core.Hosts.HostOptions>(o => o.SimulatedStateDirectory =
            Path.GetFullPath(o.SimulatedStateDirectory.Length > 0 ? o.SimulatedStateDirectory : Path.Combine(dataDirectory, "simulated"), contentRoot));
        builder.Services.PostConfigure<VirtPortal.Core.Databases.DatabaseOptions>(o =>
        {
            o.SqliteDirectory = Path.GetFullPath(o.SqliteDirectory.Length > 0 ? o.SqliteDirectory : Path.Combine(dataDirectory, "databases"), contentRoot);
            o.BackupDirectory = Path.GetFullPath(o.BackupDirectory.Length > 0 ? o.BackupDirectory : Path.Combine(dataDirectory, "backups"), contentRoot);
        });
        builder.Services.AddHealthChecks().AddDbContextCheck<PortalDbContext>("database");
        return builder.Services.AddPortalCore(builder.Configuration, connectionString);
    }

    /// <summary>Sign-in with hardened cookies, API tokens for scripts, revalidation of open circuits, persisted keys, invite mail.</summary>
    public static WebApplicationBuilder AddPortalIdentity(this WebApplicationBuilder builder, IdentityBuilder identity)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(identity);
        var services = builder.Services;
        services.AddOptions<PortalIdentityOptions>().Bind(builder.Configuration.GetSection(PortalIdentityOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<SmtpOptions>().Bind(builder.Configuration.GetSection(SmtpOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();

        identity.AddSignInManager().AddClaimsPrincipalFactory<PortalClaimsPrincipalFactory>();
        services.AddCascadingAuthenticationState();
        services.AddScoped<IdentityRedirectManager>();
        services.AddScoped<AuthenticationStateProvider, IdentityRevalidatingAuthenticationStateProvider>();
        services.AddAuthentication(options =>
            {
                options.DefaultScheme = IdentityConstants.ApplicationScheme;
                options.DefaultSignInScheme = IdentityConstants.ExternalScheme;
            })
            .AddIdentityCookies();
        // Scripts: personal API tokens (Authorization: Bearer vpt_…), for the REST API and the live hub.
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(ApiTokenDefaults.Scheme, null);
        services.AddProblemDetails();
        services.ConfigureApplicationCookie(cookie =>
        {
            cookie.LoginPath = "/Account/Login";
            cookie.AccessDeniedPath = "/Account/AccessDenied";
            cookie.Cookie.Name = "VirtPortal.Auth";
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Lax;
            cookie.SlidingExpiration = true;
            cookie.ExpireTimeSpan = TimeSpan.FromHours(12);
        });
        services.AddOptions<SecurityStampValidatorOptions>()
            .Configure<IOptions<PortalIdentityOptions>>((o, portal) =>
            {
                o.ValidationInterval = portal.Value.RevalidationInterval;
                o.OnRefreshingPrincipal = PortalClaimsPrincipalFactory.KeepSession;
            });
        services.AddOptions<DataProtectionTokenProviderOptions>()
            .Configure<IOptions<PortalIdentityOptions>>((o, portal) => o.TokenLifespan = portal.Value.InviteLinkLifetime);

        // Keys outlive restarts, so sign-in cookies and invite links stay valid across them.
        var keys = Path.Combine(builder.Environment.ContentRootPath, builder.Configuration["DataDirectory"] ?? "data", "keys");
        services.AddDataProtection().SetApplicationName("VirtPortal").PersistKeysToFileSystem(new DirectoryInfo(keys));

        services.AddSingleton<InviteMailer>();
        return builder;
    }

    /// <summary>Blazor Server with MudBlazor.</summary>
    public static IServiceCollection AddPortalUi(this IServiceCollection services)
    {
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices();
        return services;
    }

    /// <summary>
    /// Migrates the schema, creates the first admin and seeds demo data before the portal serves anyone.
    /// A generated admin password is written to the log once, with the sign-in address, after start.
    /// </summary>
    public static async Task InitializePortalAsync(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        BootstrapResult result;
        await using (var scope = app.Services.CreateAsyncScope())
        {
            result = await scope.ServiceProvider.GetRequiredService<PortalInitializer>().InitializeAsync(app.Lifetime.ApplicationStopping);
        }

        if (result.GeneratedPassword is { } password)
        {
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("VirtPortal.Bootstrap");
            app.Lifetime.ApplicationStarted.Register(() =>
            {
                var address = app.Urls.FirstOrDefault() ?? "http://localhost:5000";
                LogGeneratedAdmin(logger, result.CreatedAdminEmail!, password, $"{address.TrimEnd('/')}/Account/Login");
            });
        }
    }

    public static IEndpointConventionBuilder MapPortalHealth(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapHealthChecks("/healthz", new HealthCheckOptions
        {
            ResponseWriter = (context, report) =>
            {
                context.Response.ContentType = "application/json";
                return context.Response.WriteAsync(JsonSerializer.Serialize(new
                {
                    status = report.Status.ToString(),
                    checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), e.Value.Description }),
                }));
            },
        }).AllowAnonymous();

    /// <summary>Whether the host listens on https (then, and only then, redirect and send HSTS).</summary>
    public static bool ServesHttps(this IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return (configuration["urls"] ?? "").Contains("https://", StringComparison.OrdinalIgnoreCase)
            || !string.IsNullOrEmpty(configuration["https_ports"]);
    }

    // The one time a secret is logged, by design: nobody could sign in otherwise (as Grafana and Jenkins do).
    [LoggerMessage(LogLevel.Warning, """

        ****************************************************************
        VirtPortal first run: an administrator account was created.
          Sign in at: {SignInUrl}
          Email:      {Email}
          Password:   {Password}
        This password is shown once. Change it after signing in.
        ****************************************************************
        """)]
    private static partial void LogGeneratedAdmin(ILogger logger, string email, string password, string signInUrl);
}
