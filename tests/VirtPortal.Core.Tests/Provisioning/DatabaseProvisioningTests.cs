using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Catalog;
using VirtPortal.Core.Common;
using VirtPortal.Core.Databases;
using VirtPortal.Core.Monitoring;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tests.Requests;

namespace VirtPortal.Core.Tests.Provisioning;

/// <summary>
/// Database requests through the worker on the embedded SQLite server every portal registers at its first
/// run (the PostgreSQL lifecycle runs against a real server in VirtPortal.Databases.Tests).
/// </summary>
public sealed class DatabaseProvisioningTests : IAsyncLifetime
{
    private PortalTestHost host = default!;
    private RequestScenario scenario = default!;
    private Guid sqliteOffering;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ProvisioningService Provisioning => host.Services.GetRequiredService<ProvisioningService>();

    public async ValueTask InitializeAsync()
    {
        host = await PortalTestHost.StartAsync();
        scenario = await RequestTestData.ArrangeAsync(host);
        await using var db = host.NewDb();
        var offering = new DatabaseOffering { Id = Guid.NewGuid(), Name = "sqlite-embedded", Engine = DatabaseEngineKind.Sqlite, StorageGiB = 1, ConnectionLimit = 1, HourlyPrice = 0.001m };
        db.DatabaseOfferings.Add(offering);
        await db.SaveChangesAsync(Ct);
        sqliteOffering = offering.Id;
    }

    public async ValueTask DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task An_approved_SQLite_database_request_ends_with_its_file_on_the_embedded_server_and_no_password()
    {
        var requestId = await host.Drafts().SubmitAsync(scenario.Requester, NewDatabase("orders", sqliteOffering), Ct);

        Assert.True(await Provisioning.RunOnceAsync("worker-a", Ct));

        var database = Assert.Single(await host.ResourcesAsync(scenario.TenantId));
        Assert.Equal(ResourceState.Running, database.State);
        Assert.Null(database.HostId);
        Assert.Matches("^vp_orders_[0-9a-f]{8}$", database.DatabaseName);
        await using var db = host.NewDb();
        var server = await db.DatabaseServers.SingleAsync(s => s.Id == database.DatabaseServerId, Ct);
        Assert.Equal((DatabaseServerRegistration.EmbeddedName, DatabaseEngineKind.Sqlite), (server.Name, server.Engine));
        Assert.True(File.Exists(Path.Combine(host.Files.FullName, "databases", database.DatabaseName + ".sqlite")));
        Assert.False(await db.DatabaseCredentials.AnyAsync(Ct));
        Assert.Equal(RequestState.Completed, (await host.RequestAsync(requestId)).State);
    }

    [Fact]
    public async Task A_check_of_the_embedded_server_confirms_the_database_and_pushes_its_size()
    {
        await host.Drafts().SubmitAsync(scenario.Requester, NewDatabase("orders", sqliteOffering), Ct);
        await Provisioning.RunOnceAsync("worker-a", Ct);
        var database = Assert.Single(await host.ResourcesAsync(scenario.TenantId));
        var pushed = new TaskCompletionSource<Live.DatabaseSampled>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = host.Services.GetRequiredService<Live.LiveUpdates>().Subscribe(message =>
        {
            if (message is Live.DatabaseSampled sample && sample.ResourceId == database.Id)
                pushed.TrySetResult(sample);
            return Task.CompletedTask;
        });

        await host.Services.GetRequiredService<DatabaseHealth>().CheckAsync(Ct);

        var figures = await pushed.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.Equal(scenario.TenantId, figures.ResourceTenantId);
        Assert.Equal(new FileInfo(Path.Combine(host.Files.FullName, "databases", database.DatabaseName + ".sqlite")).Length, figures.SizeBytes);
        Assert.Equal(ResourceState.Running, Assert.Single(await host.ResourcesAsync(scenario.TenantId)).ObservedState);
    }

    [Fact]
    public async Task Each_check_adds_to_the_databases_size_history_the_hour_as_checked_and_the_week_in_five_minute_buckets()
    {
        await host.Drafts().SubmitAsync(scenario.Requester, NewDatabase("orders", sqliteOffering), Ct);
        await Provisioning.RunOnceAsync("worker-a", Ct);
        var database = Assert.Single(await host.ResourcesAsync(scenario.TenantId));
        var file = Path.Combine(host.Files.FullName, "databases", database.DatabaseName + ".sqlite");
        var health = host.Services.GetRequiredService<DatabaseHealth>();
        var databases = host.Services.GetRequiredService<DatabaseService>();
        var first = host.Time.GetUtcNow();

        // Two checks in one five-minute bucket, then the tenant writes half a megabyte and two more follow, a bucket apart.
        await health.CheckAsync(Ct);
        host.Time.Advance(TimeSpan.FromSeconds(15));
        await health.CheckAsync(Ct);
        var small = new FileInfo(file).Length;
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file};Pooling=False"))
        {
            await connection.OpenAsync(Ct);
            await using var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE orders (body BLOB); INSERT INTO orders VALUES (randomblob(524288));";
            await command.ExecuteNonQueryAsync(Ct);
        }

        host.Time.Advance(TimeSpan.FromMinutes(5));
        await health.CheckAsync(Ct);
        host.Time.Advance(TimeSpan.FromMinutes(5));
        await health.CheckAsync(Ct);
        var large = new FileInfo(file).Length;
        Assert.True(large > small + 500_000, $"{small} then {large} bytes");

        var hour = await databases.SeriesAsync(scenario.Requester, database.Id, MetricRange.Hour, Ct);
        Assert.Equal([first, first.AddSeconds(15), first.AddSeconds(315), first.AddSeconds(615)], hour.Select(s => s.At));
        Assert.Equal([small, small, large, large], hour.Select(s => s.SizeBytes));
        var week = await databases.SeriesAsync(scenario.Requester, database.Id, MetricRange.Week, Ct);
        Assert.Equal(
            [DatabaseFigureHistory.BucketOf(first), DatabaseFigureHistory.BucketOf(first.AddSeconds(315)), DatabaseFigureHistory.BucketOf(first.AddSeconds(615))],
            week.Select(s => s.At));
        Assert.Equal([small, large, large], week.Select(s => s.SizeBytes));

        // Nine days on, the hour holds only the newest check and the old buckets are gone.
        host.Time.Advance(TimeSpan.FromDays(9));
        await health.CheckAsync(Ct);
        Assert.Equal([host.Time.GetUtcNow()], (await databases.SeriesAsync(scenario.Requester, database.Id, MetricRange.Hour, Ct)).Select(s => s.At));
        Assert.Equal([DatabaseFigureHistory.BucketOf(host.Time.GetUtcNow())], (await databases.SeriesAsync(scenario.Requester, database.Id, MetricRange.Week, Ct)).Select(s => s.At));
        await using var db = host.NewDb();
        Assert.Equal(1, await db.DatabaseFigureRollups.CountAsync(Ct));
    }

    [Fact]
    public async Task Deleting_a_database_frees_its_record_at_once_and_the_worker_then_removes_the_file()
    {
        await host.Drafts().SubmitAsync(scenario.Requester, NewDatabase("orders", sqliteOffering), Ct);
        await Provisioning.RunOnceAsync("worker-a", Ct);
        var database = Assert.Single(await host.ResourcesAsync(scenario.TenantId));
        var file = Path.Combine(host.Files.FullName, "databases", database.DatabaseName + ".sqlite");

        await host.Services.GetRequiredService<ResourceActions>().RequestAsync(scenario.Requester, database.Id, OperationKind.Delete, "orders", Ct);

        // Gone from the tenant's count before the worker has touched the server.
        var deleted = Assert.Single(await host.ResourcesAsync(scenario.TenantId));
        Assert.Equal(ResourceState.Deleted, deleted.State);
        Assert.NotNull(deleted.DeletedAt);
        Assert.True(File.Exists(file));
        Assert.True(await Provisioning.RunOnceAsync("worker-a", Ct));
        Assert.False(File.Exists(file));
        Assert.Equal(ResourceState.Deleted, Assert.Single(await host.ResourcesAsync(scenario.TenantId)).State);
    }

    [Fact]
    public async Task A_new_password_for_a_SQLite_database_is_refused_before_anything_is_queued()
    {
        await host.Drafts().SubmitAsync(scenario.Requester, NewDatabase("orders", sqliteOffering), Ct);
        await Provisioning.RunOnceAsync("worker-a", Ct);
        var database = Assert.Single(await host.ResourcesAsync(scenario.TenantId));

        var refused = await Assert.ThrowsAsync<PortalValidationException>(() =>
            host.Services.GetRequiredService<ResourceActions>().RequestAsync(scenario.Requester, database.Id, OperationKind.RotatePassword, null, Ct));

        Assert.Contains("has no password", refused.Message, StringComparison.Ordinal);
        await using var db = host.NewDb();
        Assert.False(await db.Operations.AnyAsync(o => o.Kind == OperationKind.RotatePassword, Ct));
    }

    [Fact]
    public async Task A_PostgreSQL_database_with_no_server_registered_fails_saying_so_in_database_words()
    {
        var requestId = await host.Drafts().SubmitAsync(scenario.Requester, NewDatabase("orders", scenario.Catalog.Postgres), Ct);

        Assert.True(await Provisioning.RunOnceAsync("worker-a", Ct));

        var database = Assert.Single(await host.ResourcesAsync(scenario.TenantId));
        Assert.Equal(ResourceState.Failed, database.State);
        var request = await host.RequestAsync(requestId);
        Assert.Equal(RequestState.Failed, request.State);
        Assert.Equal("No PostgreSQL server is registered.", request.FailureDetail);
        Assert.StartsWith("No database server has room for this database right now", request.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_backup_counts_toward_the_tenants_disk_until_retention_removes_it_and_its_file()
    {
        await host.Drafts().SubmitAsync(scenario.Requester, NewDatabase("orders", sqliteOffering), Ct);
        await Provisioning.RunOnceAsync("worker-a", Ct);
        var database = Assert.Single(await host.ResourcesAsync(scenario.TenantId));
        var before = await DiskUsedAsync();

        await host.Services.GetRequiredService<ResourceActions>().RequestAsync(scenario.Requester, database.Id, OperationKind.Backup, null, Ct);
        Assert.True(await Provisioning.RunOnceAsync("worker-a", Ct));

        DatabaseBackup backup;
        await using (var db = host.NewDb())
            backup = await db.DatabaseBackups.AsNoTracking().SingleAsync(Ct);
        Assert.Equal((DatabaseBackupState.Ready, DatabaseEngineKind.Sqlite), (backup.State, backup.Engine));
        var file = host.Services.GetRequiredService<DatabaseEngineRegistry>().BackupFile(backup.Id);
        Assert.Equal(new FileInfo(file).Length, backup.SizeBytes);
        Assert.Equal("SQLite format 3\0"u8.ToArray(), (await File.ReadAllBytesAsync(file, Ct))[..16]);
        // A started GiB counts as one, as the tenant's other storage does.
        Assert.Equal(before + 1, await DiskUsedAsync());

        var retention = host.Services.GetRequiredService<DatabaseBackupRetention>();
        host.Time.Advance(TimeSpan.FromDays(13));
        Assert.Equal(0, await retention.PruneAsync(Ct));
        host.Time.Advance(TimeSpan.FromDays(2));
        Assert.Equal(1, await retention.PruneAsync(Ct));

        Assert.False(File.Exists(file));
        Assert.Equal(before, await DiskUsedAsync());
        await using (var db = host.NewDb())
            Assert.Equal(DatabaseBackupState.Deleted, (await db.DatabaseBackups.AsNoTracking().SingleAsync(Ct)).State);
    }

    private async Task<int> DiskUsedAsync() =>
        (await host.Drafts().PreflightAsync(scenario.Requester, NewDatabase("next", sqliteOffering), Ct)).Quota.Lines.Single(l => l.Dimension == "Disk").Used;

    [Theory]
    [InlineData("orders-db")]
    [InlineData("Orders")]
    [InlineData("select")]
    [InlineData("o'brien")]
    [InlineData("bäckerei")]
    public async Task A_database_name_the_server_could_not_take_is_refused_and_nothing_is_queued(string name)
    {
        var error = await Assert.ThrowsAsync<PortalValidationException>(() => host.Drafts().SubmitAsync(scenario.Requester, NewDatabase(name, sqliteOffering), Ct));

        Assert.Contains(nameof(RequestDraft.Name), error.Errors.Keys);
        Assert.Equal(DatabaseNames.Problem(name), Assert.Single(error.Errors[nameof(RequestDraft.Name)]));
        await using var db = host.NewDb();
        Assert.False(await db.Requests.AnyAsync(Ct));
        Assert.False(await db.Operations.AnyAsync(Ct));
    }

    private RequestDraft NewDatabase(string name, Guid offering) => new()
    {
        Kind = RequestKind.NewDatabase,
        TenantId = scenario.TenantId,
        Name = name,
        OfferingId = offering,
        LeaseDays = 7,
        Justification = "for the tests",
    };
}
