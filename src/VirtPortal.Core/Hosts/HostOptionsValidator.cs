using Microsoft.Extensions.Options;
using VirtPortal.Core.Provisioning;

namespace VirtPortal.Core.Hosts;

/// <summary>Checks <c>Hosts</c> at start-up, naming the key of each bad setting.</summary>
public sealed class HostOptionsValidator(IEnumerable<IHypervisorFactory> factories) : IValidateOptions<HostOptions>
{
    public ValidateOptionsResult Validate(string? name, HostOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.FirstRun is not ("auto" or "simulated" or "libvirt"))
            failures.Add($"{HostOptions.Section}:{nameof(HostOptions.FirstRun)} is auto, simulated or libvirt, not '{options.FirstRun}'.");
        if (options.ConnectionTimeout < TimeSpan.FromSeconds(1) || options.ConnectionTimeout > TimeSpan.FromMinutes(5))
            failures.Add($"{HostOptions.Section}:{nameof(HostOptions.ConnectionTimeout)} is between 00:00:01 and 00:05:00.");
        if (HostRules.DomainTypeError(HostDriver.Libvirt, options.LocalDomainType, options.LocalLibvirtUri) is { } domainType)
            failures.Add($"{HostOptions.Section}:{nameof(HostOptions.LocalDomainType)}: {domainType}");
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < options.List.Count; i++)
        {
            var key = $"{HostOptions.Section}:{nameof(HostOptions.List)}:{i}";
            var input = HostRules.Normalize(options.List[i].ToInput());
            foreach (var (field, messages) in HostRules.Errors(input, Supports))
                failures.Add($"{key}:{field}: {messages[0]}");
            if (input.Name.Length > 0 && !names.Add(input.Name))
                failures.Add($"{key}:{nameof(ConfiguredHost.Name)}: '{input.Name}' is listed twice.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private bool Supports(HostDriver driver) => driver == HostDriver.Simulated || factories.Any(f => f.Driver == driver);
}
