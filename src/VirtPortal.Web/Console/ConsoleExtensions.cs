using Microsoft.Extensions.DependencyInjection.Extensions;
using VirtPortal.Web.Hubs;

namespace VirtPortal.Web.Console;

public static class ConsoleExtensions
{
    /// <summary>
    /// The VM console: tickets for the VM page, the proxy behind <see cref="ConsoleProxy.Route"/>, its session
    /// limits and their revalidation. Origins are the live hub's (<see cref="LiveOptions.AllowedOrigins"/>).
    /// </summary>
    public static WebApplicationBuilder AddPortalConsole(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<ConsoleOptions>().Bind(builder.Configuration.GetSection(ConsoleOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<TrustedOrigins>();
        services.AddSingleton<ConsoleLocator>();
        services.AddSingleton<ConsoleTickets>();
        services.AddSingleton<ConsoleSessions>();
        services.AddSingleton<ConsoleProxy>();
        services.AddHostedService<ConsoleRevalidator>();
        return builder;
    }

    /// <summary>
    /// The console websocket and its ticket endpoint. Websockets are turned on for the console's route only
    /// (the hub has its own), and both handlers answer anonymous requests with 401 themselves rather than
    /// the sign-in page's redirect.
    /// </summary>
    public static WebApplication MapPortalConsole(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var proxy = app.Services.GetRequiredService<ConsoleProxy>();
        var pipeline = ((IEndpointRouteBuilder)app).CreateApplicationBuilder()
            .UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        pipeline.Run(proxy.HandleAsync);
        app.Map(ConsoleProxy.Route, pipeline.Build()).WithDisplayName("VM console");
        app.MapPost(ConsoleTicketEndpoint.Route, ConsoleTicketEndpoint.PostAsync).WithDisplayName("VM console ticket");
        return app;
    }
}
