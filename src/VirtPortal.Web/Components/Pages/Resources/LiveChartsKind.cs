namespace VirtPortal.Web.Components.Pages.Resources;

/// <summary>Whose figures a <see cref="LiveCharts"/> draws.</summary>
public enum LiveChartsKind
{
    Vm = 0,
    Database = 1,

    /// <summary>An embedded (SQLite) database: a file, so its size only; nobody holds sessions on it.</summary>
    DatabaseFile = 2,
}
