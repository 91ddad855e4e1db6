using System.Globalization;

namespace VirtPortal.Newcomer;

/// <summary>The bench's command line.</summary>
internal sealed record Options(int Runs, bool FreshClone, bool ColdNuget, string DomainType, string? LockFile, bool NoDoc)
{
    public const string Template = "Tiny test guest";
    public const string Size = "small";
    public const string MemberEmail = "member@demo.virtportal.local";
    public const string DemoPassword = "virtportal-demo";
    public const string LibvirtUri = "qemu:///system";

    public string Mode => ColdNuget ? "fresh clone, empty NuGet cache" : FreshClone ? "fresh clone" : "fresh data directory, built tree";

    public static Options Parse(string[] args)
    {
        var runs = 3;
        bool freshClone = false, coldNuget = false, noDoc = false;
        var domainType = "qemu";
        string? lockFile = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--fresh-clone": freshClone = true; break;
                case "--cold-nuget": coldNuget = freshClone = true; break;
                case "--no-doc": noDoc = true; break;
                case "--domain-type" when i + 1 < args.Length: domainType = args[++i]; break;
                case "--lock" when i + 1 < args.Length: lockFile = args[++i]; break;
                case var value when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is > 0 and <= 50: runs = n; break;
                default: throw new ArgumentException($"Unknown argument '{args[i]}'. See the usage at the top of Program.cs.");
            }
        }

        return new Options(runs, freshClone, coldNuget, domainType, lockFile, noDoc);
    }

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Runs} run(s), {Mode}, domain type {(DomainType == "auto" ? "chosen by the portal" : DomainType)}{(LockFile is null ? "" : ", lock " + LockFile)}");
}

/// <summary>A run that could not finish; the message says where and why.</summary>
internal sealed class BenchException(string message) : Exception(message);
