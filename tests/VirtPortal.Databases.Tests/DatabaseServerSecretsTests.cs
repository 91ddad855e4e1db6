using Microsoft.AspNetCore.DataProtection;
using VirtPortal.Core.Databases;

namespace VirtPortal.Databases.Tests;

public sealed class DatabaseServerSecretsTests : IDisposable
{
    private const string Connection = "Host=db1.example;Port=5433;Username=portal_admin;Password=s3cret-Admin-pw;Database=postgres";
    private readonly DirectoryInfo keys = Directory.CreateTempSubdirectory("virtportal-keys-");

    public void Dispose() => keys.Delete(recursive: true);

    private DatabaseServerSecrets Secrets(string application = "VirtPortal") =>
        new(DataProtectionProvider.Create(keys, b => b.SetApplicationName(application)));

    [Fact]
    public void The_admin_connection_is_kept_as_ciphertext_and_read_back_with_the_same_key_ring()
    {
        var stored = Secrets().Protect(Connection);

        Assert.DoesNotContain("s3cret", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("portal_admin", stored, StringComparison.Ordinal);
        Assert.Equal(Connection, Secrets().Unprotect(stored));
    }

    [Fact]
    public void Another_key_ring_cannot_read_it_and_says_what_to_do()
    {
        var stored = Secrets().Protect(Connection);
        using var otherKeys = new TempDirectory();
        var other = new DatabaseServerSecrets(DataProtectionProvider.Create(otherKeys.Info, b => b.SetApplicationName("VirtPortal")));

        var refused = Assert.Throws<DatabaseEngineException>(() => other.Unprotect(stored));
        Assert.Contains("Enter the connection again", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", refused.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void What_may_be_shown_names_the_user_and_server_but_never_the_password() =>
        Assert.Equal("portal_admin@db1.example:5433", DatabaseServerSecrets.Describe(Connection));

    private sealed class TempDirectory : IDisposable
    {
        public DirectoryInfo Info { get; } = Directory.CreateTempSubdirectory("virtportal-keys-other-");

        public void Dispose() => Info.Delete(recursive: true);
    }
}
