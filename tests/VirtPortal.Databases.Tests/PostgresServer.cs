using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using VirtPortal.Core.Databases;

namespace VirtPortal.Databases.Tests;

/// <summary>
/// A private PostgreSQL server for this test run: <c>initdb</c> in a temp directory and <c>pg_ctl start</c>
/// on a free loopback port, password authentication only, every statement logged (so tests can read what
/// reached the server). Stopped and deleted at the end. <c>psql</c> is the independent client.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private readonly DirectoryInfo root = Directory.CreateTempSubdirectory("virtportal-pg-");
    private readonly string superPassword = RandomNumberGenerator.GetHexString(24, lowercase: true);
    private string bin = "";

    public int Port { get; private set; }

    public string Data => Path.Combine(root.FullName, "data");

    public string LogFile => Path.Combine(root.FullName, "server.log");

    public string AdminConnectionString => string.Create(CultureInfo.InvariantCulture,
        $"Host=127.0.0.1;Port={Port};Username=postgres;Password={superPassword};Database=postgres");

    public PostgresDatabaseEngine NewEngine(TimeSpan? timeout = null) => new(AdminConnectionString, timeout ?? TimeSpan.FromSeconds(30), bin);

    public async ValueTask InitializeAsync()
    {
        bin = FindBin();
        var passwordFile = Path.Combine(root.FullName, "superuser-password");
        await File.WriteAllTextAsync(passwordFile, superPassword);
        if (Environment.UserName == "root")
            await RunAsync("chown", ["-R", "postgres:postgres", root.FullName]);
        await RunAsync(Path.Combine(bin, "initdb"), ["-D", Data, "-U", "postgres", "--pwfile", passwordFile, "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], asServerUser: true);
        File.Delete(passwordFile);

        // A free port can be taken between choosing it and the server binding it: try a few.
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort();
            var options = string.Create(CultureInfo.InvariantCulture,
                $"-p {Port} -k {root.FullName} -c listen_addresses=127.0.0.1 -c fsync=off -c log_statement=all -c log_connections=on");
            var started = await RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", Data, "-o", options, "-l", LogFile, "-w", "-t", "60", "start"], asServerUser: true, check: false);
            if (started.ExitCode == 0)
                return;
            if (attempt == 3)
                throw new InvalidOperationException($"pg_ctl start failed: {started.Error} {started.Output} {(File.Exists(LogFile) ? await File.ReadAllTextAsync(LogFile) : "")}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Port != 0)
            await RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", Data, "-m", "immediate", "stop"], asServerUser: true, check: false);
        root.Delete(recursive: true);
    }

    /// <summary>Runs <c>psql</c> as <paramref name="user"/> against <paramref name="database"/>: unaligned, tuples only, stopping at the first error.</summary>
    public Task<(int ExitCode, string Output, string Error)> PsqlAsync(string user, string password, string database, string sql) =>
        RunAsync("psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", user, "-d", database, "-c", sql],
            check: false, environment: new Dictionary<string, string> { ["PGPASSWORD"] = password, ["PGCONNECT_TIMEOUT"] = "10" });

    /// <summary>psql as the superuser; throws when the statement fails.</summary>
    public async Task<string> AdminSqlAsync(string sql, string database = "postgres")
    {
        var result = await PsqlAsync("postgres", superPassword, database, sql);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"psql as postgres failed: {result.Error}");
        return result.Output;
    }

    private static string FindBin()
    {
        var found = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1)
                .FirstOrDefault()
            : null;
        return found ?? throw new InvalidOperationException("No PostgreSQL server binaries under /usr/lib/postgresql/N/bin: install the postgresql package (scripts/test.sh does).");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(string file, IReadOnlyList<string> arguments, bool asServerUser = false, bool check = true,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        // initdb and the server refuse to run as root.
        var asOther = asServerUser && Environment.UserName == "root";
        var start = new ProcessStartInfo(asOther ? "runuser" : file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = "/" };
        if (asOther)
        {
            foreach (var a in new[] { "-u", "postgres", "--", file })
                start.ArgumentList.Add(a);
        }

        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            start.Environment[key] = value;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(limit.Token);
        var result = (process.ExitCode, (await output).Trim(), (await error).Trim());
        if (check && result.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed ({result.ExitCode}): {result.Item3}");
        return result;
    }
}
