using Npgsql;

namespace VirtPortal.Core.Databases;

/// <summary>
/// What an admin enters for a PostgreSQL server; the field names key the validation messages. On a change,
/// an empty <see cref="AdminConnection"/> keeps the stored one. <see cref="ClientHost"/> and
/// <see cref="ClientPort"/> are what clients put in their connection strings when the admin connection's
/// differ (a socket, a private name).
/// </summary>
public sealed record DatabaseServerInput(string Name, string AdminConnection, string? ClientHost, int? ClientPort, int MaxDatabases, int StorageGiB);

/// <summary>Input rules for database servers, shared by the form (as-you-type) and the service (authoritative).</summary>
public static class DatabaseServerRules
{
    public const int NameMaxLength = 64;
    public const int AdminConnectionMaxLength = 1000;
    public const int ClientHostMaxLength = 255;
    public const int MaxDatabasesLimit = 10_000;
    public const int StorageGiBLimit = 1_048_576;
    public const string ExampleConnection = "Host=db1.example;Username=portal_admin;Password=…";

    /// <summary>Trims what people type; an empty client host is none.</summary>
    public static DatabaseServerInput Normalize(DatabaseServerInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input with
        {
            Name = input.Name?.Trim() ?? "",
            AdminConnection = input.AdminConnection?.Trim() ?? "",
            ClientHost = string.IsNullOrWhiteSpace(input.ClientHost) ? null : input.ClientHost.Trim(),
        };
    }

    /// <summary>Every problem with <paramref name="input"/>, by field; empty when it is fine. Without <paramref name="connectionRequired"/> an empty connection is fine (a change that keeps it).</summary>
    public static Dictionary<string, string[]> Errors(DatabaseServerInput input, bool connectionRequired)
    {
        input = Normalize(input);
        var errors = new Dictionary<string, string[]>();
        void Add(string field, string? message)
        {
            if (message is not null)
                errors[field] = [message];
        }

        Add(nameof(DatabaseServerInput.Name), NameError(input.Name));
        Add(nameof(DatabaseServerInput.AdminConnection), input.AdminConnection.Length == 0 && !connectionRequired ? null : ConnectionError(input.AdminConnection));
        Add(nameof(DatabaseServerInput.ClientHost), ClientHostError(input.ClientHost));
        Add(nameof(DatabaseServerInput.ClientPort), input.ClientPort is { } port and (< 1 or > 65535) ? "A port is between 1 and 65535." : null);
        Add(nameof(DatabaseServerInput.MaxDatabases), input.MaxDatabases is < 1 or > MaxDatabasesLimit ? $"A server holds between 1 and {MaxDatabasesLimit} databases." : null);
        Add(nameof(DatabaseServerInput.StorageGiB), input.StorageGiB is < 1 or > StorageGiBLimit ? $"Storage is between 1 and {StorageGiBLimit} GiB." : null);
        return errors;
    }

    public static string? NameError(string? name)
    {
        var trimmed = name?.Trim() ?? "";
        if (trimmed.Length == 0)
            return "Enter a name for the server.";
        if (trimmed.Length > NameMaxLength)
            return $"A server name has at most {NameMaxLength} characters.";
        if (!char.IsAsciiLetterOrDigit(trimmed[0]) || !trimmed.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            return "A server name starts with a letter or digit and has only letters, digits, '-', '_' and '.'.";
        return null;
    }

    /// <summary>
    /// Whether <paramref name="connection"/> is a PostgreSQL connection string naming a host and a role. The
    /// messages never repeat the string: it holds a password.
    /// </summary>
    public static string? ConnectionError(string? connection)
    {
        var trimmed = connection?.Trim() ?? "";
        if (trimmed.Length == 0)
            return $"Enter the admin connection string, such as {ExampleConnection}";
        if (trimmed.Length > AdminConnectionMaxLength)
            return $"An admin connection string has at most {AdminConnectionMaxLength} characters.";
        NpgsqlConnectionStringBuilder settings;
        try
        {
            settings = new NpgsqlConnectionStringBuilder(trimmed);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            return $"This is not a PostgreSQL connection string: write Key=value pairs separated by ';', such as {ExampleConnection}";
        }

        if (string.IsNullOrWhiteSpace(settings.Host))
            return "Name the server with Host=… (a host name, an IP address, or a socket directory such as /var/run/postgresql).";
        if (settings.Host.Contains(',', StringComparison.Ordinal))
            return "Name one server in Host=…: the portal manages each server on its own.";
        if (string.IsNullOrWhiteSpace(settings.Username))
            return "Name the admin role with Username=… (a superuser, or a role with CREATEDB and CREATEROLE).";
        return null;
    }

    public static string? ClientHostError(string? host)
    {
        if (string.IsNullOrWhiteSpace(host))
            return null;
        var trimmed = host.Trim();
        if (trimmed.Length > ClientHostMaxLength)
            return $"A host name has at most {ClientHostMaxLength} characters.";
        return Uri.CheckHostName(trimmed) == UriHostNameType.Unknown
            ? "Enter a host name or IP address that clients reach, such as db1.example.com."
            : null;
    }
}
