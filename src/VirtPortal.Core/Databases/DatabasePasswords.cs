using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace VirtPortal.Core.Databases;

/// <summary>Generated database passwords, and the SCRAM verifier PostgreSQL keeps instead of them.</summary>
public static class DatabasePasswords
{
    // Letters and digits only, so a password needs no quoting in a URI, a JDBC URL or a shell.
    private const string Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

    public const int Length = 32;

    /// <summary>A new random password (32 characters from 57: about 187 bits).</summary>
    public static string New() => RandomNumberGenerator.GetString(Alphabet, Length);

    /// <summary>
    /// The SCRAM-SHA-256 verifier of <paramref name="password"/> (RFC 5802/7677, in PostgreSQL's
    /// "SCRAM-SHA-256$iterations:salt$StoredKey:ServerKey" form). The portal sends this, never the password,
    /// so the clear password cannot reach the server's statement log. Passwords here are ASCII, which
    /// SASLprep leaves as they are.
    /// </summary>
    public static string ScramVerifier(string password, int iterations = 4096)
    {
        ArgumentNullException.ThrowIfNull(password);
        var salt = RandomNumberGenerator.GetBytes(16);
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        var clientKey = HMACSHA256.HashData(salted, "Client Key"u8);
        var storedKey = SHA256.HashData(clientKey);
        var serverKey = HMACSHA256.HashData(salted, "Server Key"u8);
        return string.Create(CultureInfo.InvariantCulture,
            $"SCRAM-SHA-256${iterations}:{Convert.ToBase64String(salt)}${Convert.ToBase64String(storedKey)}:{Convert.ToBase64String(serverKey)}");
    }
}
