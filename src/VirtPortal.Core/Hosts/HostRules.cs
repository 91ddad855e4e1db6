using System.Globalization;

namespace VirtPortal.Core.Hosts;

/// <summary>What an admin (or the configuration) enters for a host; the field names key the validation messages.</summary>
public sealed record HostInput(string Name, HostDriver Driver, string Uri, string DomainType, double CpuOvercommit, double RamOvercommit);

/// <summary>
/// Input rules for hosts, shared by the form (as-you-type), the service (authoritative) and the
/// start-up check of <c>Hosts:List</c>.
/// </summary>
public static class HostRules
{
    public const int NameMaxLength = 64;
    public const int UriMaxLength = 500;
    public const double MinCpuOvercommit = 0.1;
    public const double MaxCpuOvercommit = 32;
    public const double MinRamOvercommit = 0.1;
    public const double MaxRamOvercommit = 4;

    /// <summary>What simulated hosts store as their domain type (they have none).</summary>
    public const string SimulatedDomainType = "simulated";

    /// <summary>libvirt schemes the portal connects to; ssh, tcp and tls reach remote daemons.</summary>
    public static IReadOnlyList<string> LibvirtSchemes { get; } = ["qemu", "qemu+ssh", "qemu+tcp", "qemu+tls", "test"];

    /// <summary>
    /// auto (kvm where the host's capabilities say KVM runs guests, else qemu), kvm on hosts with hardware
    /// virtualization, qemu (TCG emulation) where KVM cannot run guests.
    /// </summary>
    public static IReadOnlyList<string> DomainTypes { get; } = [HostAcceleration.Auto, HostAcceleration.Kvm, HostAcceleration.Qemu];

    /// <summary>An example URI for <paramref name="driver"/>, for placeholders and messages.</summary>
    public static string ExampleUri(HostDriver driver, string? name = null) =>
        driver == HostDriver.Simulated ? $"simulated://{(string.IsNullOrWhiteSpace(name) ? "NAME" : name.Trim())}" : "qemu+ssh://user@host/system";

    /// <summary>Trims what people type and gives simulated hosts their fixed domain type.</summary>
    public static HostInput Normalize(HostInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input with
        {
            Name = input.Name?.Trim() ?? "",
            Uri = input.Uri?.Trim() ?? "",
            DomainType = input.Driver == HostDriver.Simulated ? SimulatedDomainType : (input.DomainType?.Trim() ?? "").ToLowerInvariant(),
        };
    }

    /// <summary>Every problem with <paramref name="input"/>, by field; empty when it is fine.</summary>
    public static Dictionary<string, string[]> Errors(HostInput input, Func<HostDriver, bool> supports)
    {
        ArgumentNullException.ThrowIfNull(supports);
        input = Normalize(input);
        var errors = new Dictionary<string, string[]>();
        void Add(string field, string? message)
        {
            if (message is not null)
                errors[field] = [message];
        }

        Add(nameof(HostInput.Name), NameError(input.Name));
        Add(nameof(HostInput.Driver), DriverError(input.Driver, supports));
        Add(nameof(HostInput.Uri), UriError(input.Driver, input.Uri));
        Add(nameof(HostInput.DomainType), DomainTypeError(input.Driver, input.DomainType, input.Uri));
        Add(nameof(HostInput.CpuOvercommit), OvercommitError(input.CpuOvercommit, MinCpuOvercommit, MaxCpuOvercommit, "CPU"));
        Add(nameof(HostInput.RamOvercommit), OvercommitError(input.RamOvercommit, MinRamOvercommit, MaxRamOvercommit, "RAM"));
        return errors;
    }

    public static string? NameError(string? name)
    {
        var trimmed = name?.Trim() ?? "";
        if (trimmed.Length == 0)
            return "Enter a name for the host.";
        if (trimmed.Length > NameMaxLength)
            return $"A host name has at most {NameMaxLength} characters.";
        if (!char.IsAsciiLetterOrDigit(trimmed[0]) || !trimmed.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            return "A host name starts with a letter or digit and has only letters, digits, '-', '_' and '.'.";
        return null;
    }

    public static string? DriverError(HostDriver driver, Func<HostDriver, bool> supports)
    {
        ArgumentNullException.ThrowIfNull(supports);
        if (!Enum.IsDefined(driver))
            return "Choose a driver: Simulated or Libvirt.";
        return supports(driver) ? null : $"This portal has no adapter for {driver} hosts.";
    }

    public static string? UriError(HostDriver driver, string? uri)
    {
        var trimmed = uri?.Trim() ?? "";
        if (trimmed.Length == 0)
            return $"Enter the host's URI, such as {ExampleUri(driver)}.";
        if (trimmed.Length > UriMaxLength)
            return $"A URI has at most {UriMaxLength} characters.";
        if (trimmed.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            return "A URI cannot contain spaces or control characters.";
        var parsed = Uri.TryCreate(trimmed, UriKind.Absolute, out var u) && trimmed.Contains("://", StringComparison.Ordinal) ? u : null;
        return driver switch
        {
            HostDriver.Simulated => parsed is { Scheme: "simulated", AbsolutePath: "/", Query: "", Fragment: "", UserInfo: "" } && NameError(parsed.Host) is null
                ? null
                : "A simulated host's URI is simulated://NAME, e.g. simulated://demo.",
            HostDriver.Libvirt => LibvirtUriError(parsed),
            _ => null,
        };
    }

    public static string? DomainTypeError(HostDriver driver, string? domainType, string? uri)
    {
        if (driver != HostDriver.Libvirt)
            return null;
        var value = domainType?.Trim().ToLowerInvariant() ?? "";
        if (value == HostAcceleration.Test && HostAcceleration.IsTestUri(uri))
            return null;
        return DomainTypes.Contains(value)
            ? null
            : $"Choose the domain type: auto (from the host's capabilities), kvm (hardware virtualization) or qemu (emulation, where KVM cannot run guests){(value.Length > 0 ? $", not '{domainType?.Trim()}'" : "")}.";
    }

    public static string? OvercommitError(double ratio, double min, double max, string what) =>
        double.IsFinite(ratio) && ratio >= min && ratio <= max
            ? null
            : string.Create(CultureInfo.InvariantCulture, $"The {what} overcommit ratio is between {min} and {max}.");

    private static string? LibvirtUriError(Uri? uri)
    {
        const string Expected = "Enter a libvirt URI such as qemu:///system, qemu+ssh://user@host/system, qemu+tcp://host/system or test:///default.";
        if (uri is null || !LibvirtSchemes.Contains(uri.Scheme) || uri.Fragment.Length > 0)
            return Expected;
        if (uri.Scheme == "test")
            return uri.Host.Length == 0 && uri.AbsolutePath.Length > 1 ? null : "libvirt's test driver takes test:///default (or test:///path/to/config.xml).";
        if (uri.AbsolutePath is not ("/system" or "/session"))
            return "A qemu URI ends in /system (or /session), e.g. qemu:///system.";
        if (uri.Scheme != "qemu" && uri.Host.Length == 0)
            return $"{uri.Scheme}:// reaches another machine: name it, e.g. {uri.Scheme}://user@host/system.";
        return null;
    }
}
