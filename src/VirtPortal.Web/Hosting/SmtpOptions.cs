using System.ComponentModel.DataAnnotations;

namespace VirtPortal.Web.Hosting;

/// <summary>Outgoing mail for invite links. Without a host, links are shown to the admin to pass on.</summary>
public sealed class SmtpOptions
{
    public const string Section = "Smtp";

    public string? Host { get; set; }

    [Range(1, 65535, ErrorMessage = "Smtp:Port must be between 1 and 65535.")]
    public int Port { get; set; } = 587;

    public bool EnableSsl { get; set; } = true;

    public string? UserName { get; set; }

    public string? Password { get; set; }

    [EmailAddress(ErrorMessage = "Smtp:From must be an email address.")]
    public string From { get; set; } = "virtportal@localhost";

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Host);
}
