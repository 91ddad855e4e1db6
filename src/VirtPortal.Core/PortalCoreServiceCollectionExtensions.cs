using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using VirtPortal.Core.Bootstrap;
using VirtPortal.Core.Data;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core;

public static class PortalCoreServiceCollectionExtensions
{
    /// <summary>PBKDF2 (HMAC-SHA512) iterations for stored passwords: OWASP's figure for SHA-512.</summary>
    public const int PasswordHashIterations = 210_000;

    public const int MinimumPasswordLength = 12;

    /// <summary>
    /// The database, the domain services and the hardened Identity core. The web host adds sign-in
    /// and cookies on the returned builder.
    /// </summary>
    public static IdentityBuilder AddPortalCore(this IServiceCollection services, IConfiguration configuration, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<Webhooks.WebhookSignal>();
        services.AddSingleton<Webhooks.WebhookOutboxInterceptor>();
        services.AddSingleton<Webhooks.WebhookCommitInterceptor>();
        // Every change writes its webhook events in its own SaveChanges (the outbox): see Webhooks/WebhookOutboxInterceptor.
        services.AddDbContextFactory<PortalDbContext>((sp, options) => options.UseSqlite(connectionString).AddInterceptors(
            new SqliteBusyTimeout(), sp.GetRequiredService<Webhooks.WebhookOutboxInterceptor>(), sp.GetRequiredService<Webhooks.WebhookCommitInterceptor>()));
        services.AddScoped(sp => sp.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext());

        services.AddOptions<BootstrapOptions>().Bind(configuration.GetSection(BootstrapOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<DemoOptions>().Bind(configuration.GetSection(DemoOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();

        services.AddSingleton<Access.PortalAccess>();
        services.AddSingleton<TenantService>();
        services.AddSingleton<UserAdministration>();
        services.AddSingleton<UserPreferences>();
        services.AddSingleton<Live.LiveUpdates>();
        services.AddSingleton<Requests.RequestDecisions>();
        services.AddSingleton<Requests.RequestDrafts>();
        services.AddSingleton<Requests.RequestQueries>();
        services.AddSingleton<Requests.RequestFormOptionsQuery>();
        services.AddSingleton<Policies.PolicyService>();
        services.AddOptions<Leases.LeaseOptions>().Bind(configuration.GetSection(Leases.LeaseOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<Leases.LeaseService>();
        services.AddSingleton<Resources.ResourceQueries>();
        services.AddSingleton<TenantDashboards>();
        services.AddSingleton<Resources.ResourceActions>();
        services.AddSingleton<Resources.ResourceDetailsQueries>();
        services.AddOptions<Hosts.HostOptions>().Bind(configuration.GetSection(Hosts.HostOptions.Section)).ValidateOnStart();
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<Hosts.HostOptions>, Hosts.HostOptionsValidator>();
        services.AddSingleton<Hosts.HypervisorRegistry>();
        services.AddSingleton<Hosts.HostService>();
        services.AddOptions<Provisioning.ProvisioningOptions>().Bind(configuration.GetSection(Provisioning.ProvisioningOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Provisioning.FaultInjectionOptions>().Bind(configuration.GetSection(Provisioning.FaultInjectionOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        // Keys persist where the web host says (its data directory); elsewhere Data Protection's default ring.
        services.AddDataProtection().SetApplicationName("VirtPortal");
        services.AddOptions<Databases.DatabaseOptions>().Bind(configuration.GetSection(Databases.DatabaseOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<Databases.DatabaseServerSecrets>();
        services.AddSingleton<Databases.DatabaseEngineRegistry>();
        services.AddSingleton<Databases.DatabaseFigureHistory>();
        services.AddSingleton<Databases.DatabaseHealth>();
        services.AddSingleton<Databases.DatabaseBackupRetention>();
        services.AddHostedService<Databases.DatabaseMonitor>();
        services.AddSingleton<Databases.DatabaseServerService>();
        services.AddSingleton<Databases.DatabaseService>();
        services.AddSingleton<Provisioning.ProvisioningService>();
        services.AddHostedService<Provisioning.ProvisioningWorker>();
        services.AddOptions<Reconciliation.ReconcilerOptions>().Bind(configuration.GetSection(Reconciliation.ReconcilerOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<Reconciliation.Reconciler>();
        services.AddSingleton<Reconciliation.DriftService>();
        services.AddHostedService<Reconciliation.ReconcilerMonitor>();
        services.AddOptions<Monitoring.MonitoringOptions>().Bind(configuration.GetSection(Monitoring.MonitoringOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<Monitoring.MetricStore>();
        services.AddSingleton<Monitoring.MetricsCollector>();
        services.AddSingleton<Monitoring.MetricsQueries>();
        services.AddHostedService<Monitoring.MetricsMonitor>();
        services.AddHostedService<Leases.LeaseMonitor>();
        services.AddHostedService<Requests.ApprovalDeadlineMonitor>();
        services.AddSingleton<Dashboard.DashboardService>();
        services.AddSingleton<Catalog.CatalogService>();
        services.AddSingleton<Audit.AuditQueries>();
        services.AddSingleton<Notifications.NotificationService>();
        services.AddOptions<Tokens.ApiTokenOptions>().Bind(configuration.GetSection(Tokens.ApiTokenOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<Tokens.ApiTokenService>();
        services.AddSingleton<Api.IdempotencyStore>();
        services.AddHostedService<Api.IdempotencyPurge>();
        services.AddOptions<Webhooks.WebhookOptions>().Bind(configuration.GetSection(Webhooks.WebhookOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<Webhooks.WebhookSecrets>();
        services.AddSingleton<Webhooks.WebhookTargets>();
        services.AddSingleton<Webhooks.WebhookService>();
        services.AddSingleton<Webhooks.WebhookDispatcher>();
        services.AddHostedService<Webhooks.WebhookDispatcherService>();
        services.AddScoped<PortalInitializer>();

        services.Configure<PasswordHasherOptions>(o => o.IterationCount = PasswordHashIterations);
        return services.AddIdentityCore<PortalUser>(options =>
            {
                options.User.RequireUniqueEmail = true;
                // The user name is the email, which is validated as an email; Identity's narrower
                // user-name alphabet would refuse valid addresses such as o'brien@example.com.
                options.User.AllowedUserNameCharacters = "";
                options.SignIn.RequireConfirmedAccount = false;
                options.Password.RequiredLength = MinimumPasswordLength;
                options.Password.RequiredUniqueChars = 4;
                // Length beats composition rules (NIST SP 800-63B).
                options.Password.RequireDigit = false;
                options.Password.RequireLowercase = false;
                options.Password.RequireUppercase = false;
                options.Password.RequireNonAlphanumeric = false;
                options.Lockout.AllowedForNewUsers = true;
                options.Lockout.MaxFailedAccessAttempts = 5;
                options.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<PortalDbContext>()
            .AddDefaultTokenProviders();
    }

    /// <summary>
    /// Makes a relative SQLite file path absolute against <paramref name="baseDirectory"/> and creates
    /// its folder, so the database lands in the same place whatever the working directory.
    /// </summary>
    public static string ResolveSqliteConnectionString(string connectionString, string baseDirectory)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        if (builder.DataSource is { Length: > 0 } source && source != ":memory:" && builder.Mode != SqliteOpenMode.Memory)
        {
            var path = Path.GetFullPath(source, baseDirectory);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            builder.DataSource = path;
        }

        return builder.ToString();
    }
}
