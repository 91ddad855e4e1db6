using System.Globalization;
using System.Text;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Runtime;

namespace VirtPortal.CircuitBench;

/// <summary>
/// A heap walk of the server process with ClrMD: the runtime writes a dump of itself (with the heap), and
/// the walk marks what is live from the GC roots (so garbage the last GC left does not count), breadth
/// first, tallying bytes and objects by type and by owner. An object's owner is the object itself when
/// its type is one worth naming (a component, a component's render state, a VirtPortal type, a
/// DbContext, a circuit's host, renderer or DI scope, a MudBlazor service), otherwise the owner of the
/// object the walk reached it from: for an object that several owners share, the first one reached.
/// Two walks (0 circuits and N) give the per-circuit cost of each type and owner: (N − 0) / N.
/// </summary>
internal static class HeapWalk
{
    internal sealed class Census
    {
        public Dictionary<string, (long Bytes, long Count)> ByType { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, (long Bytes, long Count)> ByOwner { get; } = new(StringComparer.Ordinal);

        /// <summary>Instances of each owner (how many components, services, ... of that name are live).</summary>
        public Dictionary<string, long> Owners { get; } = new(StringComparer.Ordinal);

        public long Bytes { get; set; }

        public long Objects { get; set; }
    }

    public static async Task<Census> TakeAsync(int pid, string dumpPath)
    {
        var client = new DiagnosticsClient(pid);
        await client.WriteDumpAsync(DumpType.WithHeap, dumpPath, logDumpGeneration: false, CancellationToken.None);
        try
        {
            return Walk(dumpPath);
        }
        finally
        {
            File.Delete(dumpPath);
        }
    }

    private static Census Walk(string dumpPath)
    {
        using var target = DataTarget.LoadDump(dumpPath);
        // The DAC sits beside the dumped process's libcoreclr.so (the shared runtime on this machine).
        var clr = target.ClrVersions[0];
        var dac = Path.Combine(Path.GetDirectoryName(clr.ModuleInfo.FileName) ?? "", "libmscordaccore.so");
        // The dump does not carry the runtime's version (ClrMD reads 0.0), so the version check is skipped.
        using var runtime = clr.CreateRuntime(File.Exists(dac) ? dac : Path.Combine(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "libmscordaccore.so"), ignoreMismatch: true);
        var heap = runtime.Heap;
        var labels = new Dictionary<ulong, string?>(); // method table → owner label (null: not an owner)
        var states = new Dictionary<ulong, bool>();    // method table → is a ComponentState
        var owner = new Dictionary<ulong, string>();   // live object → owner
        var queue = new Queue<ClrObject>();
        var census = new Census();
        const string unowned = "(no named owner)";

        foreach (var root in heap.EnumerateRoots())
            Visit(root.Object, unowned);
        while (queue.TryDequeue(out var obj))
        {
            var label = owner[obj.Address];
            var type = obj.Type!.Name ?? "?";
            var size = (long)obj.Size;
            census.Bytes += size;
            census.Objects++;
            Add(census.ByType, type, size);
            Add(census.ByOwner, label, size);
            if (obj.ContainsPointers)
                foreach (var child in obj.EnumerateReferences(false, true))
                    Visit(child, label);
        }

        return census;

        void Visit(ClrObject obj, string from)
        {
            if (!obj.IsValid || obj.IsFree || obj.Type is null || owner.ContainsKey(obj.Address))
                return;
            var own = Label(obj);
            if (own is not null)
                census.Owners[own] = census.Owners.GetValueOrDefault(own) + 1;
            owner[obj.Address] = own ?? from;
            queue.Enqueue(obj);
        }

        string? Label(ClrObject obj)
        {
            var type = obj.Type!;
            if (!states.TryGetValue(type.MethodTable, out var isState))
                states[type.MethodTable] = isState = IsComponentState(type);
            if (isState)
            {
                // Its render tree (frames, attributes) is the component's output; name it by the component.
                var component = obj.TryReadObjectField("<Component>k__BackingField", out var c) && c.IsValid ? c.Type?.Name : null;
                return "render state of " + Short(component ?? "?");
            }

            if (!labels.TryGetValue(type.MethodTable, out var label))
                labels[type.MethodTable] = label = OwnerName(type);
            return label;
        }
    }

    private static string? OwnerName(ClrType type)
    {
        var name = type.Name ?? "";
        if (type.IsArray || type.IsString || name.Length == 0)
            return null;
        // A closure or state machine belongs to the type that declares it.
        var plus = name.IndexOf("+<", StringComparison.Ordinal);
        var declaring = plus > 0 ? name[..plus] : name;
        if (IsComponent(type))
            return "component " + Short(declaring);
        if (name.StartsWith("VirtPortal.", StringComparison.Ordinal))
            return Short(declaring);
        for (var t = type.BaseType; t is not null; t = t.BaseType)
            if (t.Name == "Microsoft.EntityFrameworkCore.DbContext")
                return "DbContext " + Short(declaring);
        if (plus > 0)
            return null;
        if (name.StartsWith("MudBlazor.", StringComparison.Ordinal) && !name.Contains('`', StringComparison.Ordinal)
            && (name.EndsWith("Service", StringComparison.Ordinal) || name.EndsWith("Interop", StringComparison.Ordinal) || name.EndsWith("Provider", StringComparison.Ordinal)))
            return Short(name);
        return name switch
        {
            "Microsoft.AspNetCore.Components.Server.Circuits.CircuitHost"
                or "Microsoft.AspNetCore.Components.Server.Circuits.RemoteRenderer"
                or "Microsoft.AspNetCore.Components.Server.Circuits.RemoteJSRuntime"
                or "Microsoft.AspNetCore.Components.Server.Circuits.RemoteNavigationManager"
                or "Microsoft.AspNetCore.Components.Server.Circuits.CircuitClientProxy"
                or "Microsoft.AspNetCore.Components.Server.Circuits.RenderBatchWriter"
                or "Microsoft.Extensions.DependencyInjection.ServiceLookup.ServiceProviderEngineScope"
                or "Microsoft.AspNetCore.SignalR.HubConnectionContext" => Short(name),
            _ when name.StartsWith("Microsoft.AspNetCore.Identity.UserManager<", StringComparison.Ordinal)
                || name.StartsWith("Microsoft.AspNetCore.Identity.SignInManager<", StringComparison.Ordinal) => Short(name[..name.IndexOf('<', StringComparison.Ordinal)]),
            _ => null,
        };
    }

    // Blazor Server's states are RemoteComponentState, a subclass.
    private static bool IsComponentState(ClrType type)
    {
        for (var t = type; t is not null; t = t.BaseType)
            if (t.Name == "Microsoft.AspNetCore.Components.Rendering.ComponentState")
                return true;
        return false;
    }

    private static bool IsComponent(ClrType type)
    {
        for (var t = type; t is not null; t = t.BaseType)
            foreach (var i in t.EnumerateInterfaces())
                if (i.Name == "Microsoft.AspNetCore.Components.IComponent")
                    return true;
        return false;
    }

    private static string Short(string name)
    {
        var generic = name.IndexOf('<', StringComparison.Ordinal);
        var head = generic > 0 ? name[..generic] : name;
        var dot = head.LastIndexOf('.');
        return dot > 0 ? name[(dot + 1)..] : name;
    }

    private static void Add(Dictionary<string, (long Bytes, long Count)> d, string key, long bytes)
    {
        var (b, c) = d.GetValueOrDefault(key);
        d[key] = (b + bytes, c + 1);
    }

    /// <summary>The per-circuit difference of two walks, as markdown: the total, then the top owners and types.</summary>
    public static string Report(string page, int n, Census before, Census after, int top)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Heap walk, {page}, N = {n}: live {before.Bytes / 1024.0:F0} → {after.Bytes / 1024.0:F0} KiB ({before.Objects} → {after.Objects} objects) = **{(after.Bytes - before.Bytes) / 1024.0 / n:F1} KiB** and {(after.Objects - before.Objects) / (double)n:F0} objects per circuit.");
        text.AppendLine();
        text.AppendLine("| share | KiB per circuit |");
        text.AppendLine("|---|---:|");
        var components = (after.Owners.Where(kv => kv.Key.StartsWith("component ", StringComparison.Ordinal)).Sum(kv => kv.Value)
            - before.Owners.Where(kv => kv.Key.StartsWith("component ", StringComparison.Ordinal)).Sum(kv => kv.Value)) / (double)n;
        foreach (var (share, bytes) in Diff(before.ByOwner, after.ByOwner, n).GroupBy(x => Share(x.Key), x => x.Bytes).Select(g => (g.Key, g.Sum())).OrderByDescending(x => x.Item2))
            text.AppendLine(CultureInfo.InvariantCulture, $"| {(share == ComponentsShare ? $"{share} ({components:F0} instances)" : share)} | {bytes / 1024:F1} |");
        text.AppendLine();
        text.AppendLine("| owner | instances per circuit | KiB per circuit | objects per circuit |");
        text.AppendLine("|---|---:|---:|---:|");
        foreach (var (key, bytes, count) in Diff(before.ByOwner, after.ByOwner, n).Take(top))
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {Cell(key)} | {(after.Owners.GetValueOrDefault(key) - before.Owners.GetValueOrDefault(key)) / (double)n:F1} | {bytes / 1024:F1} | {count:F0} |");
        text.AppendLine();
        text.AppendLine("| type | KiB per circuit | objects per circuit |");
        text.AppendLine("|---|---:|---:|");
        foreach (var (key, bytes, count) in Diff(before.ByType, after.ByType, n).Take(top))
            text.AppendLine(CultureInfo.InvariantCulture, $"| {Cell(key)} | {bytes / 1024:F1} | {count:F0} |");
        return text.ToString().TrimEnd();
    }

    private const string ComponentsShare = "components: their objects and render state (two render-tree buffers each)";

    private static string Share(string owner) => owner switch
    {
        _ when owner.StartsWith("component ", StringComparison.Ordinal) || owner.StartsWith("render state of ", StringComparison.Ordinal) => ComponentsShare,
        "RemoteJSRuntime" => "the circuit's JS runtime (its own JSON metadata cache, object references)",
        "RemoteRenderer" or "CircuitHost" or "CircuitClientProxy" or "RenderBatchWriter" or "RemoteNavigationManager" or "HubConnectionContext"
            => "renderer, circuit host and SignalR connection",
        "(no named owner)" => "reached from no named owner first (buffers, pipes, caches)",
        _ => "DI scopes and scoped services (VirtPortal, MudBlazor, Identity, DbContext)",
    };

    private static IEnumerable<(string Key, double Bytes, double Count)> Diff(
        Dictionary<string, (long Bytes, long Count)> before, Dictionary<string, (long Bytes, long Count)> after, int n) =>
        after.Keys.Union(before.Keys)
            .Select(k => (k, (after.GetValueOrDefault(k).Bytes - before.GetValueOrDefault(k).Bytes) / (double)n,
                (after.GetValueOrDefault(k).Count - before.GetValueOrDefault(k).Count) / (double)n))
            .OrderByDescending(x => x.Item2);

    private static string Cell(string s) => "`" + s.Replace("|", "\\|", StringComparison.Ordinal).Replace("`", "'", StringComparison.Ordinal) + "`";
}
