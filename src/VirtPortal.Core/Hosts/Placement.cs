using System.Globalization;

namespace VirtPortal.Core.Hosts;

/// <summary>A host with what is already placed on it (<see cref="Vms"/>: how many live resources).</summary>
public sealed record HostLoad(Host Host, int AllocatedVCpus, long AllocatedRamMiB, long AllocatedDiskGiB, int Vms);

public sealed record PlacementDecision(Host? Host, string Reason);

/// <summary>
/// Picks an Online host with room for the demand (capacity × overcommit), spreading load: the one
/// with the largest share of memory left wins. Says why, either way.
/// </summary>
public static class Placement
{
    public static PlacementDecision Choose(IReadOnlyList<HostLoad> hosts, int vcpus, int ramMiB, int diskGiB)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        if (hosts.Count == 0)
            return new(null, "No host is registered.");
        var reasons = new List<string>();
        HostLoad? best = null;
        double bestFree = -1;
        foreach (var load in hosts)
        {
            var host = load.Host;
            var cpuCap = host.Cpus * host.CpuOvercommit;
            var ramCap = host.MemoryMiB * host.RamOvercommit;
            if (host.State != HostState.Online)
                reasons.Add($"{host.Name} is {host.State.ToString().ToLowerInvariant()}");
            else if (load.AllocatedVCpus + vcpus > cpuCap)
                reasons.Add($"{host.Name} has {Math.Max(0, cpuCap - load.AllocatedVCpus).ToString("0", CultureInfo.InvariantCulture)} vCPUs left, {vcpus} needed");
            else if (load.AllocatedRamMiB + ramMiB > ramCap)
                reasons.Add($"{host.Name} has {Math.Max(0, ramCap - load.AllocatedRamMiB).ToString("0", CultureInfo.InvariantCulture)} MiB of RAM left, {ramMiB} needed");
            else if (host.StorageGiB > 0 && load.AllocatedDiskGiB + diskGiB > host.StorageGiB)
                reasons.Add($"{host.Name} has {Math.Max(0, host.StorageGiB - load.AllocatedDiskGiB)} GiB of disk left, {diskGiB} needed");
            else
            {
                var free = 1 - ((load.AllocatedRamMiB + ramMiB) / ramCap);
                if (free > bestFree)
                    (best, bestFree) = (load, free);
            }
        }

        if (best is null)
            return new(null, "No host has room: " + string.Join("; ", reasons) + ".");
        var chosen = best.Host;
        return new(chosen, string.Create(CultureInfo.InvariantCulture,
            $"placed on {chosen.Name}: {bestFree:P0} of its memory free afterwards, the most of {hosts.Count(h => h.Host.State == HostState.Online)} online host(s)"));
    }
}
