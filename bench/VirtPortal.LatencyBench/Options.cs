using System.Globalization;

namespace VirtPortal.LatencyBench;

/// <summary>The bench's command line; see the usage at the top of Program.cs.</summary>
internal sealed record Options
{
    public int Changes { get; init; } = 220;

    public TimeSpan Gap { get; init; } = TimeSpan.FromSeconds(1.5);

    public int Warmup { get; init; } = 4;

    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(10);

    public string LibvirtUri { get; init; } = "qemu:///system";

    public string DomainType { get; init; } = "qemu";

    public bool NoDoc { get; init; }

    public List<string> PortalSettings { get; init; } = [];

    public static Options Parse(string[] args)
    {
        var options = new Options();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            double Number() => double.Parse(Next(), CultureInfo.InvariantCulture);
            options = args[i] switch
            {
                "--changes" => options with { Changes = (int)Number() },
                "--gap" => options with { Gap = TimeSpan.FromSeconds(Number()) },
                "--warmup" => options with { Warmup = (int)Number() },
                "--settle" => options with { Settle = TimeSpan.FromSeconds(Number()) },
                "--uri" => options with { LibvirtUri = Next() },
                "--domain-type" => options with { DomainType = Next() },
                "--no-doc" => options with { NoDoc = true },
                "--portal-setting" => options with { PortalSettings = [.. options.PortalSettings, Next()] },
                _ => throw new ArgumentException($"Unknown argument '{args[i]}'. See the usage at the top of Program.cs."),
            };
        }

        if (options.Changes < 2 || options.Warmup < 0 || options.Warmup % 2 != 0)
            throw new ArgumentException("--changes is at least 2 and --warmup an even number (each pause is followed by its resume).");
        return options;
    }
}
