using System.Globalization;
using System.Runtime.InteropServices;
using VirtPortal.Core.Provisioning;
using VirtPortal.Libvirt.Interop;

namespace VirtPortal.Libvirt;

/// <summary>Turns one virDomainStatsRecord's typed parameters into <see cref="DomainStats"/>.</summary>
internal static class DomainStatsReader
{
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
    /// else QEMU's resident set, else the balloon size.
    /// </summary>
    internal static DomainStats FromValues(Guid id, DateTimeOffset at, IReadOnlyDictionary<string, ulong> values)
    {
        ulong Get(string name) => values.TryGetValue(name, out var v) ? v : 0;

        ulong used;
        if (values.TryGetValue("balloon.available", out var available) && values.TryGetValue("balloon.unused", out var unused))
            used = available - Math.Min(unused, available);
        else if (values.TryGetValue("balloon.rss", out var rss))
            used = rss;
        else
            used = Get("balloon.current");
        var max = values.TryGetValue("balloon.maximum", out var maximum) ? maximum : Get("balloon.current");

        return new DomainStats(
            id, at, Get("cpu.time"), (int)Get("vcpu.current"), used, max,
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
