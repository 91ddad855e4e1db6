using System.Globalization;

namespace VirtPortal.Web.Components.Shared;

/// <summary>Amounts of bytes and rates as screens show them, in binary units (as libvirt and the charts count).</summary>
public static class Units
{
    private static readonly string[] Names = ["B", "KiB", "MiB", "GiB", "TiB"];

    public static string Bytes(double bytes)
    {
        var unit = 0;
        while (Math.Abs(bytes) >= 1024 && unit < Names.Length - 1)
        {
            bytes /= 1024;
            unit++;
        }

        return (unit == 0 ? bytes.ToString("0", CultureInfo.InvariantCulture) : bytes.ToString("0.#", CultureInfo.InvariantCulture)) + " " + Names[unit];
    }

    public static string Rate(double bytesPerSecond) => Bytes(bytesPerSecond) + "/s";
}
