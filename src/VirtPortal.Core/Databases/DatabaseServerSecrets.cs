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

    public string UnprotectPassword(string protectedPassword) => Open(passwords, protectedPassword, DatabaseFailure.Refused,
        "The password cannot be read: the portal's data protection keys changed. Ask for a new password.");

    public string Protect(string adminConnectionString)
    {
        ArgumentException.ThrowIfNullOrEmpty(adminConnectionString);
        return protector.Protect(adminConnectionString);
    }

    /// <summary>The connection string again; throws <see cref="DatabaseEngineException"/> when the key ring no longer opens it.</summary>
    public string Unprotect(string protectedConnectionString) => Open(protector, protectedConnectionString, DatabaseFailure.Unreachable,
        "The server's admin connection cannot be read: the portal's data protection keys changed. Enter the connection again.");

    /// <summary>A protected value again; a key ring that no longer opens it is the engine error <paramref name="failure"/> with <paramref name="message"/>.</summary>
    private static string Open(IDataProtector with, string protectedValue, DatabaseFailure failure, string message)
    {
        ArgumentException.ThrowIfNullOrEmpty(protectedValue);
        try
        {
            return with.Unprotect(protectedValue);
        }
        catch (CryptographicException e)
        {
            throw new DatabaseEngineException(failure, message, e);
        }
    }

    /// <summary>"postgres@db1.example:5432", for pages and logs: who and where, never the password or other options.</summary>
    public static string Describe(string adminConnectionString)
    {
        var settings = new NpgsqlConnectionStringBuilder(adminConnectionString);
        return $"{settings.Username}@{settings.Host}:{settings.Port}";
    }
}
