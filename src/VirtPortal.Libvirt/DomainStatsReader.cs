using System.Globalization;
using System.Runtime.InteropServices;
using VirtPortal.Core.Provisioning;
using VirtPortal.Libvirt.Interop;

namespace VirtPortal.Libvirt;

/// <summary>Turns one virDomainStatsRecord's typed parameters into <see cref="DomainStats"/>.</summary>
internal static class DomainStatsReader
{
    /// <summary>state, cpu total, balloon, vcpu, interface and block: everything a metric point needs, nothing more.</summary>
    public const uint Groups = LibvirtConstants.StatsState | LibvirtConstants.StatsCpuTotal | LibvirtConstants.StatsBalloon
                               | LibvirtConstants.StatsVcpu | LibvirtConstants.StatsInterface | LibvirtConstants.StatsBlock;

    public static DomainStats Read(Guid id, DateTimeOffset at, VirDomainStatsRecord record)
    {
        var values = new Dictionary<string, ulong>(StringComparer.Ordinal);
        var size = Marshal.SizeOf<VirTypedParameter>();
        for (var i = 0; i < record.NParams; i++)
        {
            var parameter = Marshal.PtrToStructure<VirTypedParameter>(record.Params + (i * size));
            if (parameter.AsUInt64 is { } value)
                values[parameter.Name] = value;
        }

        return FromValues(id, at, values);
    }

    /// <summary>
    /// Memory used is what the guest reports (available minus unused) when its balloon driver runs,
    /// else QEMU's resident set, else the balloon size; <see cref="DomainStats.MemoryUsedSource"/> says which.
    /// </summary>
    internal static DomainStats FromValues(Guid id, DateTimeOffset at, IReadOnlyDictionary<string, ulong> values)
    {
        ulong Get(string name) => values.TryGetValue(name, out var v) ? v : 0;

        var current = Get("balloon.current");
        ulong? available = values.TryGetValue("balloon.available", out var a) ? a : null;
        (ulong Used, MemoryUsedSource Source) memory =
            available is { } guest && values.TryGetValue("balloon.unused", out var unused) ? (guest - Math.Min(unused, guest), MemoryUsedSource.Guest)
            : values.TryGetValue("balloon.rss", out var rss) ? (rss, MemoryUsedSource.ResidentSet)
            : current > 0 ? (current, MemoryUsedSource.Balloon)
            : (0, MemoryUsedSource.None);
        var max = values.TryGetValue("balloon.maximum", out var maximum) ? maximum : current;
        var state = values.TryGetValue("state.state", out var s) && Enum.IsDefined(typeof(DomainState), (int)s) ? (DomainState)(int)s : DomainState.Unknown;

        return new DomainStats(
            id, at, state, Get("cpu.time"), (int)Get("vcpu.current"),
            current, max, available, memory.Used, memory.Source,
            Sum(values, "block", "rd.bytes"), Sum(values, "block", "wr.bytes"),
            Sum(values, "net", "rx.bytes"), Sum(values, "net", "tx.bytes"));
    }

    /// <summary>Sums "{prefix}.{index}.{suffix}" over the devices that "{prefix}.count" announces.</summary>
    private static ulong Sum(IReadOnlyDictionary<string, ulong> values, string prefix, string suffix)
    {
        var count = values.TryGetValue(prefix + ".count", out var c) ? c : 0;
        ulong total = 0;
        for (ulong i = 0; i < count; i++)
        {
            if (values.TryGetValue(string.Create(CultureInfo.InvariantCulture, $"{prefix}.{i}.{suffix}"), out var v))
                total += v;
        }

        return total;
    }
}
