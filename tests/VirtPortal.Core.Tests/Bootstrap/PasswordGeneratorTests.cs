using VirtPortal.Core.Bootstrap;

namespace VirtPortal.Core.Tests.Bootstrap;

public sealed class PasswordGeneratorTests
{
    [Fact]
    public void Generated_password_has_the_asked_length_and_every_character_class()
    {
        var password = PasswordGenerator.Generate(16);

        Assert.Equal(16, password.Length);
        Assert.Contains(password, char.IsLower);
        Assert.Contains(password, char.IsUpper);
        Assert.Contains(password, char.IsDigit);
        Assert.Contains(password, c => !char.IsLetterOrDigit(c));
    }

    [Fact]
    public void Passwords_shorter_than_12_characters_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PasswordGenerator.Generate(11));
    }
}
