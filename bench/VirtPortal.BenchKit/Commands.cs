using System.Diagnostics;
using System.Globalization;

namespace VirtPortal.BenchKit;

/// <summary>What an external command left behind: its exit code and its trimmed output.</summary>
public sealed record CommandOutcome(int ExitCode, string Output, string Error)
{
    public bool Ok => ExitCode == 0;
}

/// <summary>Short external commands (git, virsh, kill, stat), each with a time limit.</summary>
public static class Commands
{
    /// <summary>
    /// Runs <paramref name="file"/> to its end and returns its output; past <paramref name="timeout"/> the
    /// process tree is killed and a <see cref="TimeoutException"/> names the command.
    /// </summary>
    public static async Task<CommandOutcome> RunAsync(string file, IEnumerable<string> arguments, TimeSpan timeout,
        string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Directory.GetCurrentDirectory(),
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            start.Environment[key] = value;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var error = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            if (ct.IsCancellationRequested)
                throw;
            throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                $"{file} {string.Join(' ', start.ArgumentList)} did not finish within {timeout.TotalSeconds:0} s"));
        }

        return new CommandOutcome(process.ExitCode, (await output).Trim(), (await error).Trim());
    }

    /// <summary>virsh on <paramref name="uri"/>, one minute at most.</summary>
    public static Task<CommandOutcome> VirshAsync(string uri, params string[] arguments) =>
        RunAsync("virsh", ["-c", uri, .. arguments], TimeSpan.FromSeconds(60));
}
