using System.Net;
using System.Net.Mail;
using Microsoft.Extensions.Options;

namespace VirtPortal.Web.Hosting;

/// <summary>Sends invite links by mail when SMTP is configured; otherwise the admin passes them on.</summary>
public sealed partial class InviteMailer(IOptions<SmtpOptions> options, ILogger<InviteMailer> logger)
{
    public bool CanSend => options.Value.IsConfigured;

    public async Task SendInviteAsync(string email, string link, CancellationToken ct)
    {
        var smtp = options.Value;
        if (!smtp.IsConfigured)
            throw new InvalidOperationException("Smtp:Host is not configured.");
        using var client = new SmtpClient(smtp.Host, smtp.Port) { EnableSsl = smtp.EnableSsl };
        if (!string.IsNullOrEmpty(smtp.UserName))
            client.Credentials = new NetworkCredential(smtp.UserName, smtp.Password);
        using var message = new MailMessage(smtp.From, email)
        {
            Subject = "Your VirtPortal account",
            Body = $"An account was created for you on VirtPortal.\n\nSet your password here (the link works once):\n{link}\n",
        };
        await client.SendMailAsync(message, ct);
        LogSent(email);
    }

    [LoggerMessage(LogLevel.Information, "Invite mailed to {Email}")]
    private partial void LogSent(string email);
}
