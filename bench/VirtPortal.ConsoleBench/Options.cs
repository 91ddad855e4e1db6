using System.Globalization;

namespace VirtPortal.ConsoleBench;

/// <summary>The bench's command line (see Program.cs).</summary>
internal sealed record Options(int Samples, int Warmup, TimeSpan Gap, string LibvirtUri, string DomainType, bool NoDoc)
{
    public static Options Parse(string[] args)
    {
        var options = new Options(200, 20, TimeSpan.FromMilliseconds(50), "qemu:///system", "qemu", false);
        for (var i = 0; i < args.Length; i++)
        {
            options = args[i] switch
            {
                "--samples" => options with { Samples = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--warmup" => options with { Warmup = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--gap" => options with { Gap = TimeSpan.FromMilliseconds(double.Parse(args[++i], CultureInfo.InvariantCulture)) },
                "--uri" => options with { LibvirtUri = args[++i] },
                "--domain-type" => options with { DomainType = args[++i] },
                "--no-doc" => options with { NoDoc = true },
                var other => throw new ArgumentException($"unknown argument {other}; see bench/VirtPortal.ConsoleBench/Program.cs"),
            };
        }

        return options.Samples < 10 || options.Warmup < 0
            ? throw new ArgumentException("--samples is at least 10 and --warmup at least 0")
            : options;
    }
}
