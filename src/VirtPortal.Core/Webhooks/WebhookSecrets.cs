using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace VirtPortal.Core.Webhooks;

/// <summary>
/// Signing secrets at rest: protected with Data Protection under a purpose of their own, as database servers'
/// admin connections are (<see cref="Databases.DatabaseServerSecrets"/>), so the portal's database holds only ciphertext.
/// </summary>
public sealed class WebhookSecrets(IDataProtectionProvider provider)
{
    /// <summary>What the delivery log says when the key ring no longer opens a secret.</summary>
    public const string Unreadable = "The signing secret cannot be read: the portal's data protection keys changed. Give the subscription a new secret.";

    private readonly IDataProtector protector = provider.CreateProtector("VirtPortal.Webhooks.SigningSecret.v1");

    public string Protect(string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        return protector.Protect(secret);
    }

    /// <summary>The secret again; false when the key ring no longer opens it.</summary>
    public bool TryUnprotect(string protectedSecret, [NotNullWhen(true)] out string? secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(protectedSecret);
        try
        {
            secret = protector.Unprotect(protectedSecret);
            return true;
        }
        catch (CryptographicException)
        {
            secret = null;
            return false;
        }
    }
}
