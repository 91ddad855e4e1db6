using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace VirtPortal.Libvirt.Tests;

/// <summary>Keeps what the adapter logs, so a test can see what it did on its own (reconnect) without calling it.</summary>
public sealed class RecordingLogger<T> : ILogger<T>
{
    private readonly ConcurrentQueue<string> _messages = new();

    public IReadOnlyList<string> Messages => [.. _messages];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        _messages.Enqueue(formatter(state, exception));
    }
}
