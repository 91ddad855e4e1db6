using System.ComponentModel.DataAnnotations;

namespace VirtPortal.Core.Databases;

public sealed class DatabaseOptions
{
    public const string Section = "Databases";

    /// <summary>The limit of every engine call (create, drop, password, status, figures, backup, restore).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan EngineTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often every server is asked how its databases are (health, size, sessions, drift).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Where the embedded SQLite databases live; the web host defaults it to DataDirectory/databases.</summary>
    public string SqliteDirectory { get; set; } = "";

    /// <summary>Where backups are written; the web host defaults it to DataDirectory/backups.</summary>
    public string BackupDirectory { get; set; } = "";

    /// <summary>How long a backup is kept before retention removes it.</summary>
    [Range(1, 3650)]
    public int BackupRetentionDays { get; set; } = 14;

    /// <summary>
    /// What the first run registers besides the embedded SQLite server: "auto" (the local PostgreSQL when
    /// <see cref="LocalAdminConnection"/> answers) or "none".
    /// </summary>
    public string FirstRun { get; set; } = "auto";

    /// <summary>The admin connection of the local PostgreSQL server the first run tries (its socket by default).</summary>
    public string LocalAdminConnection { get; set; } = "Host=/var/run/postgresql;Username=postgres";
}
