using System.Collections.Concurrent;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using VirtPortal.Core.Tenancy;

namespace VirtPortal.Web.Tests.Console;

/// <summary>Every log line the portal writes at every level, for the test that tickets never reach the log.</summary>
public sealed class TracedConsolePortal : ConsolePortal
{
    // A field initializer runs before the base constructor, which starts the server.
    private readonly LineRecorder recorder = new();

    public TracedConsolePortal()
        : base(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Trace" })
    {
    }

    public IReadOnlyCollection<string> Lines => recorder.Lines;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureLogging(logging => logging.AddProvider(recorder));
    }

    private sealed class LineRecorder : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> lines = new();

        public IReadOnlyCollection<string> Lines => lines;

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(LineRecorder recorder, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull
            {
                recorder.lines.Enqueue($"{category} scope: {state}");
                return null;
            }

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                ArgumentNullException.ThrowIfNull(formatter);
                var properties = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
                recorder.lines.Enqueue($"{category} {logLevel}: {formatter(state, exception)} {properties} {exception}");
            }
        }
    }
}

public sealed class ConsoleLogTests(TracedConsolePortal portal) : IClassFixture<TracedConsolePortal>, IAsyncDisposable
{
    private readonly RfbServer vnc = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task No_log_line_at_any_level_holds_a_ticket_issued_used_or_refused()
    {
        var (member, tenant, vm) = await portal.MemberWithVncVmAsync(vnc.Port);
        var cookies = await portal.SignInAsync(member);
        var ticket = await portal.TicketAsync(cookies, vm);
        using (var socket = await portal.ConnectAsync(cookies, vm, ticket))
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", Ct);
        using var reused = ConsolePortal.Socket(cookies, ticket, portal.OwnOrigin);
        await portal.RefusedAsync(reused, vm);
        using var foreign = ConsolePortal.Socket(cookies, await portal.TicketAsync(cookies, vm), "https://evil.example");
        await portal.RefusedAsync(foreign, vm);

        Assert.Contains(portal.Lines, line => line.Contains("Console session of", StringComparison.Ordinal));
        Assert.Contains(portal.Lines, line => line.Contains("ticket already used", StringComparison.Ordinal));
        Assert.DoesNotContain(portal.Lines, line => line.Contains(ticket, StringComparison.Ordinal) || line.Contains("vp-ticket.", StringComparison.Ordinal));
    }

    public ValueTask DisposeAsync() => vnc.DisposeAsync();
}
