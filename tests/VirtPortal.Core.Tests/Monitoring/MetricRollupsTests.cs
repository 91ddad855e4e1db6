using VirtPortal.Core.Monitoring;

namespace VirtPortal.Core.Tests.Monitoring;

public sealed class MetricRollupsTests
{
    private static readonly Guid Vm = Guid.NewGuid();

    private static MetricPoint Point(DateTimeOffset at, double cpu, long memory = 1000, double read = 0) =>
        new(at, cpu, memory, 4000, read, 0, 0, 0);

    public static TheoryData<string, DateTimeOffset, MetricResolution, DateTimeOffset> Buckets() => new()
    {
        { "inside a minute", new(2026, 12, 2, 10, 17, 42, 500, TimeSpan.Zero), MetricResolution.Minute, new(2026, 12, 2, 10, 17, 0, TimeSpan.Zero) },
        { "on a minute's start", new(2026, 12, 2, 10, 17, 0, TimeSpan.Zero), MetricResolution.Minute, new(2026, 12, 2, 10, 17, 0, TimeSpan.Zero) },
        { "inside an hour", new(2026, 12, 2, 10, 59, 59, TimeSpan.Zero), MetricResolution.Hour, new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero) },
        { "another offset is bucketed in UTC", new(2026, 12, 2, 11, 30, 0, TimeSpan.FromHours(1)), MetricResolution.Hour, new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero) },
        { "a half-hour zone still buckets by UTC hours", new(2026, 12, 2, 16, 10, 0, TimeSpan.FromHours(5.5)), MetricResolution.Hour, new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero) },
    };

    [Theory]
    [MemberData(nameof(Buckets))]
    public void A_point_falls_in_the_utc_bucket_that_holds_it(string because, DateTimeOffset at, MetricResolution resolution, DateTimeOffset start)
    {
        var bucket = MetricRollups.BucketOf(at, resolution);

        Assert.True(bucket == start && bucket.Offset == TimeSpan.Zero, $"{because}: {bucket:O}");
    }

    [Fact]
    public void A_minute_is_the_plain_average_of_its_points()
    {
        var start = new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);

        var minute = MetricRollups.Average(Vm, MetricResolution.Minute, start, [(Point(start, 10, 1000, 100), 1), (Point(start.AddSeconds(5), 30, 3000, 300), 1)])!;

        Assert.Equal((20d, 2000L, 200d, 2, start), (minute.CpuPercent, minute.MemoryUsedBytes, minute.DiskReadBytesPerSecond, minute.Samples, minute.BucketStart));
    }

    [Fact]
    public void An_hour_weighs_its_minutes_by_their_samples()
    {
        var start = new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);

        // A full minute of 12 samples at 50 % and a minute the VM ran only 5 seconds of (1 sample) at 0 %.
        var hour = MetricRollups.Average(Vm, MetricResolution.Hour, start, [(Point(start, 50), 12), (Point(start.AddMinutes(1), 0), 1)])!;

        Assert.Equal(50d * 12 / 13, hour.CpuPercent, precision: 9);
        Assert.Equal(13, hour.Samples);
    }

    [Fact]
    public void Nothing_to_average_gives_no_rollup()
    {
        Assert.Null(MetricRollups.Average(Vm, MetricResolution.Hour, DateTimeOffset.UnixEpoch, []));
    }

    [Fact]
    public void The_window_keeps_its_newest_points_in_order_once_full()
    {
        var window = new MetricWindow(3);
        var start = new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);

        for (var i = 0; i < 5; i++)
            window.Add(Point(start.AddSeconds(i), i));

        Assert.Equal([2d, 3d, 4d], window.Since(DateTimeOffset.MinValue).Select(p => p.CpuPercent));
        Assert.Equal([4d], window.Since(start.AddSeconds(4)).Select(p => p.CpuPercent));
        Assert.Equal(4d, window.Latest!.CpuPercent);
    }
}
