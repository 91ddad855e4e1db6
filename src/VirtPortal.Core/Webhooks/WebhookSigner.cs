using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace VirtPortal.Core.Webhooks;

/// <summary>
/// Signatures as the Standard Webhooks specification has them (the convention of Svix and its verifier libraries):
/// headers <c>webhook-id</c>, <c>webhook-timestamp</c> (Unix seconds) and <c>webhook-signature</c> (<c>v1,</c> and the
/// base64 HMAC-SHA256 of <c>"{id}.{timestamp}.{body}"</c>), keyed with the secret's bytes (<c>whsec_</c> and base64).
/// A receiver refuses a timestamp too far from its clock (replay) and remembers ids it has handled (retries).
/// </summary>
public static class WebhookSigner
{
    public const string SecretPrefix = "whsec_";
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";

    /// <summary>A new secret: <c>whsec_</c> and 32 random bytes in base64.</summary>
    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>The value of <c>webhook-signature</c> for one attempt.</summary>
    public static string Sign(string secret, string id, DateTimeOffset timestamp, string body)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        ArgumentNullException.ThrowIfNull(body);
        if (!secret.StartsWith(SecretPrefix, StringComparison.Ordinal))
            throw new ArgumentException("A webhook secret starts with whsec_.", nameof(secret));
        var key = Convert.FromBase64String(secret[SecretPrefix.Length..]);
        var content = Encoding.UTF8.GetBytes($"{id}.{Timestamp(timestamp)}.{body}");
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, content));
    }

    public static string Timestamp(DateTimeOffset at) => at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
}
