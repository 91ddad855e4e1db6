using System.Diagnostics;
using VirtPortal.Core.Databases;

namespace VirtPortal.Databases.Tests;

/// <summary>The embedded engine on a temp directory, with the sqlite3 command-line shell as the independent client.</summary>
public sealed class SqliteEngineTests : IDisposable
{
    private readonly DirectoryInfo root = Directory.CreateTempSubdirectory("virtportal-sqlite-engine-");
    private readonly SqliteDatabaseEngine engine;

    public SqliteEngineTests() => engine = new SqliteDatabaseEngine(Path.Combine(root.FullName, "databases"), TimeSpan.FromSeconds(30));

    public void Dispose() => root.Delete(recursive: true);

    private static DatabaseSpec NewSpec(string name) => DatabaseSpec.For(DatabaseNames.ServerName(name, Guid.NewGuid()), 0);

    [Fact]
    public async Task A_file_database_is_created_used_backed_up_restored_into_another_and_dropped()
    {
        var ct = TestContext.Current.CancellationToken;
        var spec = NewSpec("notes");
        await engine.CreateAsync(spec, null, ct);
        await engine.CreateAsync(spec, null, ct);
        Assert.Equal("", await Sqlite3Async(engine.FileOf(spec), "CREATE TABLE notes(body TEXT); INSERT INTO notes VALUES ('kept');"));
        Assert.Equal((true, true, true), Triple(await engine.StatusAsync(spec, ct)));
        Assert.True((await engine.FiguresAsync(spec, ct)).SizeBytes >= 8192);
        Assert.Equal([spec.Database], await engine.ListAsync(ct));

        var backup = Path.Combine(root.FullName, "notes.backup");
        await engine.BackupAsync(spec, backup, ct);
        var copy = NewSpec("notes_copy");
        await engine.CreateAsync(copy, null, ct);
        await engine.RestoreAsync(copy, backup, ct);
        Assert.Equal("kept", await Sqlite3Async(engine.FileOf(copy), "SELECT body FROM notes;"));

        await engine.DropAsync(spec, ct);
        await engine.DropAsync(spec, ct);
        Assert.False(File.Exists(engine.FileOf(spec)));
        Assert.Equal((true, false, false), Triple(await engine.StatusAsync(spec, ct)));
        Assert.Equal([copy.Database], await engine.ListAsync(ct));
    }

    [Fact]
    public async Task An_upload_that_is_not_a_sound_sqlite_file_is_refused_and_the_database_is_unchanged()
    {
        var ct = TestContext.Current.CancellationToken;
        var spec = NewSpec("precious");
        await engine.CreateAsync(spec, null, ct);
        await Sqlite3Async(engine.FileOf(spec), "CREATE TABLE t(x); INSERT INTO t VALUES (42);");
        var before = await File.ReadAllBytesAsync(engine.FileOf(spec), ct);

        var text = Path.Combine(root.FullName, "text.db");
        await File.WriteAllTextAsync(text, "hello, not a database", ct);
        var notSqlite = await Assert.ThrowsAsync<DatabaseEngineException>(() => engine.RestoreAsync(spec, text, ct));
        Assert.Equal("The file is not an SQLite database.", notSqlite.Message);

        // A real database whose pages were overwritten in the middle: the header is fine, the b-tree is not.
        var damaged = Path.Combine(root.FullName, "damaged.db");
        await Sqlite3Async(damaged, "PRAGMA page_size = 1024; CREATE TABLE big(x); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) INSERT INTO big SELECT randomblob(200) FROM n; CREATE INDEX big_x ON big(x);");
        var bytes = await File.ReadAllBytesAsync(damaged, ct);
        Array.Fill(bytes, (byte)0x5A, 20 * 1024, 40 * 1024);
        await File.WriteAllBytesAsync(damaged, bytes, ct);
        var corrupt = await Assert.ThrowsAsync<DatabaseEngineException>(() => engine.RestoreAsync(spec, damaged, ct));
        Assert.Contains("SQLite", corrupt.Message, StringComparison.Ordinal);

        Assert.Equal(before, await File.ReadAllBytesAsync(engine.FileOf(spec), ct));
        Assert.Equal("42", await Sqlite3Async(engine.FileOf(spec), "SELECT x FROM t;"));
        Assert.Single(Directory.GetFiles(engine.Directory));
    }

    [Fact]
    public async Task A_file_database_has_no_password_to_rotate()
    {
        var spec = NewSpec("plain");
        await engine.CreateAsync(spec, null, TestContext.Current.CancellationToken);
        Assert.False(engine.HasCredentials);
        var refused = await Assert.ThrowsAsync<DatabaseEngineException>(() => engine.SetPasswordAsync(spec, "x", TestContext.Current.CancellationToken));
        Assert.Contains("no password", refused.Message, StringComparison.Ordinal);
    }

    private static (bool, bool, bool) Triple(DatabaseStatus status) => (status.ServerReachable, status.DatabaseExists, status.AcceptingConnections);

    private static async Task<string> Sqlite3Async(string file, string sql)
    {
        var start = new ProcessStartInfo("sqlite3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-bail");
        start.ArgumentList.Add(file);
        start.ArgumentList.Add(sql);
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"sqlite3 failed: {error}");
        return output.Trim();
    }
}
