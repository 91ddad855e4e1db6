using VirtPortal.BenchKit;

namespace VirtPortal.CircuitBench;

/// <summary>
/// The comparison app: `dotnet new blazor --interactivity Server --all-interactive` in a temp dir, plus
/// MudBlazor and one throwaway page (/mudbase without charts, /mudcharts with four MudChart time series
/// fed at 1 Hz from the server) so the chart choice is measured too. Nothing of it enters the product.
/// </summary>
internal static class BareApp
{
    public const string Name = "BareBlazor";

    public static async Task<string> CreateAsync(string parent)
    {
        var dir = Path.Combine(parent, "bare");
        await Run("dotnet", ["new", "blazor", "--interactivity", "Server", "--all-interactive", "-o", dir, "-n", Name], parent);
        var csproj = Path.Combine(dir, Name + ".csproj");
        File.WriteAllText(csproj, File.ReadAllText(csproj).Replace("</PropertyGroup>",
            "</PropertyGroup>\n  <ItemGroup><PackageReference Include=\"MudBlazor\" Version=\"9.12.0\" /></ItemGroup>", StringComparison.Ordinal));
        File.AppendAllText(Path.Combine(dir, "Components", "_Imports.razor"), "@using MudBlazor\n");
        var program = Path.Combine(dir, "Program.cs");
        File.WriteAllText(program, "using MudBlazor.Services;\n" + File.ReadAllText(program).Replace(
            "builder.Services.AddRazorComponents()", "builder.Services.AddMudServices();\nbuilder.Services.AddRazorComponents()", StringComparison.Ordinal));
        var appRazor = Path.Combine(dir, "Components", "App.razor");
        File.WriteAllText(appRazor, File.ReadAllText(appRazor)
            .Replace("<ImportMap />", "<link rel=\"stylesheet\" href=\"_content/MudBlazor/MudBlazor.min.css\" />\n    <ImportMap />", StringComparison.Ordinal)
            .Replace("</body>", "    <script src=\"_content/MudBlazor/MudBlazor.min.js\"></script>\n</body>", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(dir, "Components", "Pages", "MudCharts.razor"), ChartsPage);
        await Run("dotnet", ["build", "-c", "Release", "--nologo", "-v", "q"], dir);
        return dir;
    }

    private static async Task Run(string file, string[] args, string dir)
    {
        var outcome = await Commands.RunAsync(file, args, TimeSpan.FromMinutes(8), dir);
        if (!outcome.Ok)
            throw new BenchException($"{file} {string.Join(' ', args)} failed:\n{outcome.Output}\n{outcome.Error}");
    }

    // Four charts, seven series, a 15-minute window at 1 Hz: what the VM page's uPlot charts show.
    private const string ChartsPage = """
        @page "/mudcharts"
        @page "/mudbase"
        @implements IDisposable
        @inject NavigationManager Navigation

        <MudThemeProvider />
        <MudPopoverProvider />
        <MudText Typo="Typo.h6" data-testid="bench-ready">Figures</MudText>
        @if (charts)
        {
            @foreach (var chart in Charts)
            {
                <MudChart T="double" ChartType="ChartType.Timeseries" ChartSeries="@chart.Series" Width="100%" Height="180px" />
            }
            <span data-testid="bench-ticks">@ticks</span>
        }

        @code {
            private const int Window = 900;
            private bool charts;
            private int ticks;
            private PeriodicTimer? timer;
            private readonly List<Chart> Charts = [];

            private sealed class Chart(params string[] names)
            {
                public List<List<(DateTime, double)>> Points { get; } = names.Select(_ => new List<(DateTime, double)>()).ToList();
                public List<ChartSeries<double>> Series { get; } = names.Select(n => new ChartSeries<double> { Name = n }).ToList();
            }

            protected override void OnInitialized()
            {
                charts = Navigation.Uri.EndsWith("/mudcharts", StringComparison.Ordinal);
                if (!charts)
                    return;
                Charts.AddRange([new("CPU"), new("used", "total"), new("read", "write"), new("received", "sent")]);
                var now = DateTime.UtcNow;
                for (var i = Window; i > 0; i--)
                    Add(now.AddSeconds(-i));
                Publish();
                timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
                _ = TickAsync(timer);
            }

            private async Task TickAsync(PeriodicTimer t)
            {
                try
                {
                    while (await t.WaitForNextTickAsync())
                        await InvokeAsync(() => { Add(DateTime.UtcNow); Publish(); ticks++; StateHasChanged(); });
                }
                catch (ObjectDisposedException)
                {
                }
            }

            private void Add(DateTime at)
            {
                foreach (var chart in Charts)
                    foreach (var points in chart.Points)
                    {
                        points.Add((at, Random.Shared.NextDouble() * 100));
                        if (points.Count > Window)
                            points.RemoveAt(0);
                    }
            }

            private void Publish()
            {
                foreach (var chart in Charts)
                    for (var i = 0; i < chart.Series.Count; i++)
                        chart.Series[i].Data = chart.Points[i];
            }

            public void Dispose() => timer?.Dispose();
        }
        """;
}
