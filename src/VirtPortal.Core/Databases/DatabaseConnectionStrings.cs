using System.Globalization;
using Npgsql;

namespace VirtPortal.Core.Databases;

/// <summary>Where an owner connects to a PostgreSQL database, as its owner role: nothing of the server's admin connection but host and port.</summary>
public sealed record DatabaseConnection(string Host, int Port, string Database, string User)
{
    /// <summary>A host starting with '/' is the directory of the server's Unix socket, as libpq reads it.</summary>
    public bool IsSocket => Host.StartsWith('/');
}

/// <summary>One way of connecting, as a client library or tool writes it.</summary>
public sealed record ConnectionString(string Label, string Value);

/// <summary>
/// The connection strings of a database for the usual clients. The password goes in only when the caller has
/// it, that is at the one moment it is revealed; otherwise <see cref="PasswordPlaceholder"/> stands in its place.
/// </summary>
public static class DatabaseConnectionStrings
{
    public const string PasswordPlaceholder = "YOUR_PASSWORD";

    public const string Npgsql = "Npgsql / ADO.NET";
    public const string Libpq = "libpq URI";
    public const string Jdbc = "JDBC";
    public const string Psql = "psql";

    public static IReadOnlyList<ConnectionString> For(DatabaseConnection connection, string? password)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var strings = new List<ConnectionString>
        {
            new(Npgsql, NpgsqlString(connection, password)),
            new(Libpq, LibpqUri(connection, password)),
        };
        // The PostgreSQL JDBC driver speaks TCP only.
        if (!connection.IsSocket)
            strings.Add(new(Jdbc, JdbcUrl(connection, password)));
        strings.Add(new(Psql, PsqlCommand(connection, password)));
        return strings;
    }

    public static string NpgsqlString(DatabaseConnection connection, string? password)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return new NpgsqlConnectionStringBuilder
        {
            Host = connection.Host,
            Port = connection.Port,
            Database = connection.Database,
            Username = connection.User,
            Password = password ?? PasswordPlaceholder,
        }.ConnectionString;
    }

    /// <summary>postgresql://user:password@host:port/database, or with the socket directory as the host parameter.</summary>
    public static string LibpqUri(DatabaseConnection connection, string? password)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var credentials = $"{Escape(connection.User)}:{Escape(password ?? PasswordPlaceholder)}";
        return connection.IsSocket
            ? string.Create(CultureInfo.InvariantCulture, $"postgresql://{credentials}@/{Escape(connection.Database)}?host={Escape(connection.Host)}&port={connection.Port}")
            : string.Create(CultureInfo.InvariantCulture, $"postgresql://{credentials}@{UriHost(connection.Host)}:{connection.Port}/{Escape(connection.Database)}");
    }

    public static string JdbcUrl(DatabaseConnection connection, string? password)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return string.Create(CultureInfo.InvariantCulture,
            $"jdbc:postgresql://{UriHost(connection.Host)}:{connection.Port}/{Escape(connection.Database)}?user={Escape(connection.User)}&password={Escape(password ?? PasswordPlaceholder)}");
    }

    /// <summary>
    /// A shell command line. With the password it is set in PGPASSWORD for this one command; without it psql
    /// asks for it, which keeps it out of the shell's history.
    /// </summary>
    public static string PsqlCommand(DatabaseConnection connection, string? password)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var command = string.Create(CultureInfo.InvariantCulture,
            $"psql -h {Shell(connection.Host)} -p {connection.Port} -U {Shell(connection.User)} -d {Shell(connection.Database)}");
        return password is null ? command : $"PGPASSWORD={Shell(password)} {command}";
    }

    private static string Escape(string value) => Uri.EscapeDataString(value);

    private static string UriHost(string host) => host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;

    // Single quotes keep everything literal in a POSIX shell; a quote inside is closed, escaped and reopened.
    private static string Shell(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
