using System.Globalization;
using VirtPortal.Core.Catalog;

namespace VirtPortal.Web.Components.Pages.Admin;

/// <summary>How the catalog pages write prices, in one place.</summary>
public static class CatalogFormat
{
    public static string Price(decimal amount) => amount.ToString("N2", CultureInfo.CurrentCulture);

    public static string Engine(DatabaseEngineKind engine) => engine switch
    {
        DatabaseEngineKind.PostgreSql => "PostgreSQL",
        DatabaseEngineKind.Sqlite => "SQLite",
        _ => engine.ToString(),
    };

    public static string MonthlyHelp(decimal hourly) => $"{Price(Showback.Monthly(hourly))} per month ({Showback.HoursPerMonth:0} hours)";
}
