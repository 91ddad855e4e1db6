using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Npgsql;

namespace VirtPortal.Core.Databases;

/// <summary>
/// A database server's admin connection string at rest: protected with ASP.NET Core Data Protection (the
/// portal's key ring), so the portal's database holds only ciphertext. What pages, logs and audit entries
/// may show is <see cref="Describe"/>, which never includes the password.
/// </summary>
public sealed class DatabaseServerSecrets(IDataProtectionProvider provider)
{
    // A purpose of their own: a payload protected for anything else (cookies, tokens) does not open here.
    private readonly IDataProtector protector = provider.CreateProtector("VirtPortal.Databases.AdminConnection.v1");
    private readonly IDataProtector passwords = provider.CreateProtector("VirtPortal.Databases.OwnerPassword.v1");

    /// <summary>A database owner's password, kept protected between its issue and the owner's one look at it.</summary>
    public string ProtectPassword(string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(password);
        return passwords.Protect(password);
    }

    public string UnprotectPassword(string protectedPassword)
    {
        ArgumentException.ThrowIfNullOrEmpty(protectedPassword);
        try
        {
            return passwords.Unprotect(protectedPassword);
        }
        catch (CryptographicException e)
        {
            throw new DatabaseEngineException(DatabaseFailure.Refused,
                "The password cannot be read: the portal's data protection keys changed. Ask for a new password.", e);
        }
    }

    public string Protect(string adminConnectionString)
    {
        ArgumentException.ThrowIfNullOrEmpty(adminConnectionString);
        return protector.Protect(adminConnectionString);
    }

    /// <summary>The connection string again; throws <see cref="DatabaseEngineException"/> when the key ring no longer opens it.</summary>
    public string Unprotect(string protectedConnectionString)
    {
        ArgumentException.ThrowIfNullOrEmpty(protectedConnectionString);
        try
        {
            return protector.Unprotect(protectedConnectionString);
        }
        catch (CryptographicException e)
        {
            throw new DatabaseEngineException(DatabaseFailure.Unreachable,
                "The server's admin connection cannot be read: the portal's data protection keys changed. Enter the connection again.", e);
        }
    }

    /// <summary>"postgres@db1.example:5432", for pages and logs: who and where, never the password or other options.</summary>
    public static string Describe(string adminConnectionString)
    {
        var settings = new NpgsqlConnectionStringBuilder(adminConnectionString);
        return $"{settings.Username}@{settings.Host}:{settings.Port}";
    }
}
