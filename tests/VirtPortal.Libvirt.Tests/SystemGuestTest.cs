using VirtPortal.Core.Provisioning;

namespace VirtPortal.Libvirt.Tests;

/// <summary>
/// Base for tests that boot real guests on qemu:///system (TCG: KVM does not work on these machines):
/// one adapter per test class, guests named vp-it-*, and every guest a test made deleted afterwards.
/// </summary>
public abstract class SystemGuestTest(SystemLibvirtFixture fixture) : IClassFixture<SystemLibvirtFixture>, IAsyncLifetime
{
    protected static readonly LibvirtHostOptions Options = new() { Uri = SystemLibvirtFixture.Uri, DomainType = "qemu" };

    // Generous: a TCG boot takes 5-10 s alone, several times that when both cores are busy with other guests.
    protected static readonly TimeSpan BootTimeout = TimeSpan.FromSeconds(90);

    private readonly List<Guid> created = [];

    protected LibvirtHypervisor Hypervisor { get; } = new(Options);

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        Assert.NotNull(fixture);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var id in created)
            await Hypervisor.DeleteAsync(id, CancellationToken.None);
        await Hypervisor.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>A 1 vCPU, 128 MiB spec of the tiny guest, remembered for deletion.</summary>
    protected DomainSpec NewSpec()
    {
        var id = Guid.NewGuid();
        created.Add(id);
        return new DomainSpec(id, $"vp-it-{id:N}"[..14], 1, 128, 1, SystemLibvirtFixture.ImageRef);
    }

    protected static GuestConsole ConsoleOf(DomainSpec spec) => new(DomainXml.ConsoleLogPath(Options, spec.Name)!);
}
