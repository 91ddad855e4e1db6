using System.Net;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Webhooks;

namespace VirtPortal.Core.Tests.Webhooks;

public sealed class WebhookTargetsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static WebhookTargets Targets(bool allowPrivate = false) => new(Options.Create(new WebhookOptions { AllowPrivateTargets = allowPrivate }));

    [Theory]
    [InlineData("https://93.184.215.14/hooks")]
    [InlineData("http://93.184.215.14:8080/a?b=c")]
    [InlineData("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/hooks")]
    public async Task A_public_http_or_https_address_is_accepted(string url) =>
        Assert.Null(await Targets().ProblemAsync(url, Ct));

    [Theory]
    [InlineData("", "Enter the URL to send events to.")]
    [InlineData("ftp://93.184.215.14/x", "Use an http:// or https:// URL.")]
    [InlineData("file:///etc/passwd", "Use an http:// or https:// URL.")]
    [InlineData("hooks.example.com/x", "Use an http:// or https:// URL.")]
    [InlineData("https://user:secret@93.184.215.14/", "Leave user names and passwords out of the URL: deliveries are signed instead.")]
    [InlineData("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local or metadata address: webhooks cannot be sent there.")]
    [InlineData("http://[fe80::1]/", "fe80::1 is a link-local or metadata address: webhooks cannot be sent there.")]
    [InlineData("http://[::ffff:169.254.169.254]/", "169.254.169.254 is a link-local or metadata address: webhooks cannot be sent there.")]
    [InlineData("http://100.100.100.200/", "100.100.100.200 is a link-local or metadata address: webhooks cannot be sent there.")]
    [InlineData("http://10.1.2.3/", "10.1.2.3 is a private or loopback address: webhooks go to public addresses only.")]
    [InlineData("http://172.20.0.1/", "172.20.0.1 is a private or loopback address: webhooks go to public addresses only.")]
    [InlineData("http://192.168.1.1/", "192.168.1.1 is a private or loopback address: webhooks go to public addresses only.")]
    [InlineData("http://127.0.0.1:9000/", "127.0.0.1 is a private or loopback address: webhooks go to public addresses only.")]
    [InlineData("http://[::1]/", "::1 is a private or loopback address: webhooks go to public addresses only.")]
    [InlineData("http://0.0.0.0/", "0.0.0.0 is not an address webhooks can be sent to.")]
    public async Task A_url_that_is_not_http_or_reaches_a_private_link_local_or_metadata_address_is_refused_with_why(string url, string why) =>
        Assert.Equal(why, await Targets().ProblemAsync(url, Ct));

    [Fact]
    public async Task A_name_is_checked_by_the_addresses_it_resolves_to()
    {
        var problem = await Targets().ProblemAsync("http://localhost/hooks", Ct);

        Assert.NotNull(problem);
        Assert.EndsWith("is a private or loopback address: webhooks go to public addresses only.", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_setting_for_private_targets_lets_loopback_and_private_addresses_through_but_never_metadata()
    {
        var targets = Targets(allowPrivate: true);

        Assert.Null(await targets.ProblemAsync("http://127.0.0.1:9000/", Ct));
        Assert.Null(await targets.ProblemAsync("http://10.1.2.3/", Ct));
        Assert.NotNull(await targets.ProblemAsync("http://169.254.169.254/", Ct));
    }

    [Fact]
    public async Task At_delivery_the_connection_is_refused_when_the_name_resolves_to_a_refused_address_now()
    {
        // Saved while its name pointed elsewhere, a target that now resolves to loopback is not connected to (DNS rebinding).
        var refused = await Assert.ThrowsAsync<WebhookTargetRefusedException>(async () => await Targets().ConnectAsync(new DnsEndPoint("localhost", 80), Ct));

        Assert.Contains("private or loopback", refused.Message, StringComparison.Ordinal);
    }
}
