using System.Globalization;

namespace VirtPortal.ApiBench;

/// <summary>The bench's command line (see Program.cs).</summary>
internal sealed record Options(int Requests, int Reads, int Concurrency, TimeSpan Duration, int Hooks, bool NoDoc)
{
    public static Options Parse(string[] args)
    {
        var options = new Options(100, 300, 8, TimeSpan.FromSeconds(10), 100, false);
        for (var i = 0; i < args.Length; i++)
        {
            options = args[i] switch
            {
                "--requests" => options with { Requests = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--reads" => options with { Reads = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--concurrency" => options with { Concurrency = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--seconds" => options with { Duration = TimeSpan.FromSeconds(double.Parse(args[++i], CultureInfo.InvariantCulture)) },
                "--hooks" => options with { Hooks = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--no-doc" => options with { NoDoc = true },
                var other => throw new ArgumentException($"unknown argument {other}; see bench/VirtPortal.ApiBench/Program.cs"),
            };
        }

        return options.Requests is < 10 or > 190 || options.Reads < 10 || options.Concurrency < 1 || options.Hooks < 0
            ? throw new ArgumentException("--requests is 10 to 190 (one page of resources), --reads at least 10, --concurrency at least 1, --hooks at least 0")
            : options;
    }
}
