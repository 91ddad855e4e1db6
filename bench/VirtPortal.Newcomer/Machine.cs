using VirtPortal.BenchKit;

namespace VirtPortal.Newcomer;

/// <summary>The facts a figure depends on, read from the machine the bench runs on.</summary>
internal sealed record Machine(string Cpus, string Os, string Memory, string Libvirt, string Kvm, string Sdk, string Commit)
{
    public static async Task<Machine> DescribeAsync(string root)
    {
        var cpuinfo = await File.ReadAllTextAsync("/proc/cpuinfo");
        var model = cpuinfo.Split('\n').FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        var flags = cpuinfo.Split('\n').FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal)) ?? "";
        var virt = flags.Contains(" vmx", StringComparison.Ordinal) ? "vmx" : flags.Contains(" svm", StringComparison.Ordinal) ? "svm" : "no vmx/svm flag";
        var os = (await File.ReadAllLinesAsync("/etc/os-release")).FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?[12..].Trim('"') ?? "?";
        var memKb = (await File.ReadAllLinesAsync("/proc/meminfo")).First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var memory = $"{long.Parse(memKb, System.Globalization.CultureInfo.InvariantCulture) / 1024 / 1024} GiB";

        var version = await Commands.VirshAsync(Options.LibvirtUri, "version");
        string Pick(string prefix) => version.Output.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))?[prefix.Length..].Trim() ?? "?";
        var libvirt = version.Ok ? $"{Pick("Using library:")}, {Pick("Running hypervisor:")}" : "virsh version failed: " + version.Error;

        var kvmStat = File.Exists("/dev/kvm")
            ? await Commands.RunAsync("stat", ["-c", "%U:%G %a", "/dev/kvm"], TimeSpan.FromSeconds(10))
            : null;
        var kvm = kvmStat is null ? "no /dev/kvm" : $"/dev/kvm {kvmStat.Output}, CPU {virt}";

        var sdk = await Commands.RunAsync("dotnet", ["--version"], TimeSpan.FromMinutes(1), root);
        var commit = await Commands.RunAsync("git", ["rev-parse", "--short", "HEAD"], TimeSpan.FromSeconds(30), root);
        return new Machine($"{Environment.ProcessorCount} × {model}", os, memory, libvirt, kvm, sdk.Output, commit.Output);
    }
}
