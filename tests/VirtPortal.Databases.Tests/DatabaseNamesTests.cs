using VirtPortal.Core.Databases;

namespace VirtPortal.Databases.Tests;

public sealed class DatabaseNamesTests
{
    [Theory]
    [InlineData("", "needs a name")]
    [InlineData("   ", "needs a name")]
    [InlineData("my db", "only lowercase letters")]
    [InlineData("bobby\"; DROP DATABASE postgres; --", "only lowercase letters")]
    [InlineData("o'brien", "only lowercase letters")]
    [InlineData("Orders", "only lowercase letters")]
    [InlineData("café", "only lowercase letters")]
    [InlineData("数据库", "only lowercase letters")]
    [InlineData("1st", "starts with a letter")]
    [InlineData("_hidden", "starts with a letter")]
    [InlineData("select", "SQL keyword")]
    [InlineData("table", "SQL keyword")]
    [InlineData("postgres", "SQL keyword")]
    [InlineData("abcdefghijabcdefghijabcdefghijabcdefghijk", "at most 40 characters; this one has 41")]
    public void A_name_that_cannot_be_a_database_is_refused_with_the_reason(string name, string reason) =>
        Assert.Contains(reason, DatabaseNames.Problem(name), StringComparison.Ordinal);

    [Theory]
    [InlineData("orders")]
    [InlineData("app_2")]
    [InlineData("abcdefghijabcdefghijabcdefghijabcdefghij")]
    public void A_plain_name_is_accepted(string name) => Assert.Null(DatabaseNames.Problem(name));

    [Fact]
    public void Server_names_are_prefixed_unique_per_resource_and_short_enough_for_postgresql_with_their_owner()
    {
        var longest = new string('a', DatabaseNames.MaxLength);
        var one = DatabaseNames.ServerName("app", Guid.CreateVersion7());
        var other = DatabaseNames.ServerName("app", Guid.CreateVersion7());

        Assert.StartsWith("vp_app_", one, StringComparison.Ordinal);
        Assert.NotEqual(one, other);
        Assert.True(DatabaseNames.OwnerOf(DatabaseNames.ServerName(longest, Guid.NewGuid())).Length <= 63);
        Assert.Throws<ArgumentException>(() => DatabaseNames.ServerName("drop", Guid.NewGuid()));
        Assert.Throws<ArgumentException>(() => DatabaseNames.Quote("postgres"));
        Assert.Throws<ArgumentException>(() => DatabaseNames.Quote("vp_x\"; --"));
    }

    [Fact]
    public void Generated_passwords_differ_and_need_no_quoting()
    {
        var passwords = Enumerable.Range(0, 100).Select(_ => DatabasePasswords.New()).ToList();
        Assert.Equal(100, passwords.Distinct(StringComparer.Ordinal).Count());
        Assert.All(passwords, p => Assert.Matches("^[A-Za-z2-9]{32}$", p));
    }
}
