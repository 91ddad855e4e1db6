using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using VirtPortal.Core.Access;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Common;
using VirtPortal.Core.Data;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Catalog;

public enum CatalogItemKind
{
    Template,
    Size,
    Offering,
}

/// <summary>A VM template as users and admins see it; <see cref="AllowedSizeIds"/> empty means every enabled size.</summary>
public sealed record TemplateView(
    Guid Id, string Name, string Description, string OsLabel, string ImageRef, int DefaultLeaseDays, decimal HourlyPrice,
    bool Enabled, IReadOnlyList<Guid> AllowedSizeIds, long Version)
{
    public decimal MonthlyPrice => Showback.Monthly(HourlyPrice);
}

public sealed record SizeView(Guid Id, string Name, int VCpus, int RamMiB, int DiskGiB, decimal HourlyPrice, bool Enabled, long Version)
{
    public decimal MonthlyPrice => Showback.Monthly(HourlyPrice);
}

public sealed record OfferingView(
    Guid Id, string Name, string Description, DatabaseEngineKind Engine, int StorageGiB, int ConnectionLimit, int DefaultLeaseDays,
    decimal HourlyPrice, bool Enabled, long Version)
{
    public decimal MonthlyPrice => Showback.Monthly(HourlyPrice);
}

/// <summary>
/// The catalog of VM templates, VM sizes and database offerings. Everyone signed in reads what is
/// enabled; only admins read disabled items and change any, and every change is audited in the same
/// SaveChanges. Items are disabled, never deleted, so resources built from
/// them keep working.
/// </summary>
public sealed partial class CatalogService(
    IDbContextFactory<PortalDbContext> dbFactory, PortalAccess access, TimeProvider time, ILogger<CatalogService> logger)
{
    /// <summary>The enabled items, or with <paramref name="includeDisabled"/> all of them (admins only).</summary>
    [Requires(Permission.CatalogReadAll)]
    public async Task<IReadOnlyList<TemplateView>> ListTemplatesAsync(Actor actor, bool includeDisabled, CancellationToken ct = default)
    {
        await RequireReadAsync(actor, includeDisabled, "list templates", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.VmTemplates.AsNoTracking();
        if (!includeDisabled)
            query = query.Where(t => t.Enabled);
        var rows = await query.OrderBy(t => t.Name)
            .Select(t => new { Template = t, SizeIds = t.AllowedSizes.Select(s => s.Id).ToList() })
            .ToListAsync(ct);
        return [.. rows.Select(r => ToView(r.Template, r.SizeIds))];
    }

    /// <summary>The enabled items, or with <paramref name="includeDisabled"/> all of them (admins only).</summary>
    [Requires(Permission.CatalogReadAll)]
    public async Task<IReadOnlyList<SizeView>> ListSizesAsync(Actor actor, bool includeDisabled, CancellationToken ct = default)
    {
        await RequireReadAsync(actor, includeDisabled, "list sizes", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.VmSizes.AsNoTracking();
        if (!includeDisabled)
            query = query.Where(s => s.Enabled);
        return [.. (await OrderSizes(query).ToListAsync(ct)).Select(ToView)];
    }

    /// <summary>The enabled items, or with <paramref name="includeDisabled"/> all of them (admins only).</summary>
    [Requires(Permission.CatalogReadAll)]
    public async Task<IReadOnlyList<OfferingView>> ListOfferingsAsync(Actor actor, bool includeDisabled, CancellationToken ct = default)
    {
        await RequireReadAsync(actor, includeDisabled, "list database offerings", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.DatabaseOfferings.AsNoTracking();
        if (!includeDisabled)
            query = query.Where(o => o.Enabled);
        return [.. (await query.OrderBy(o => o.Name).ToListAsync(ct)).Select(ToView)];
    }

    /// <summary>The enabled sizes <paramref name="templateId"/> may run at: those it allows, or all when it names none.</summary>
    [Requires(Permission.CatalogReadEnabled)]
    public async Task<IReadOnlyList<SizeView>> SizesForTemplateAsync(Actor actor, Guid templateId, CancellationToken ct = default)
    {
        await access.RequireAsync(actor, Permission.CatalogReadEnabled, AccessTarget.Portal, "list sizes", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var allowed = await db.VmTemplates.AsNoTracking().Where(t => t.Id == templateId)
            .Select(t => t.AllowedSizes.Select(s => s.Id).ToList())
            .FirstOrDefaultAsync(ct)
            ?? throw new PortalNotFoundException("That template does not exist.");
        var query = db.VmSizes.AsNoTracking().Where(s => s.Enabled);
        if (allowed.Count > 0)
            query = query.Where(s => allowed.Contains(s.Id));
        return [.. (await OrderSizes(query).ToListAsync(ct)).Select(ToView)];
    }

    /// <summary>One item: an enabled one for everyone signed in, a disabled one only for those who may read them all (admins).</summary>
    [Requires(Permission.CatalogReadEnabled)]
    public async Task<TemplateView> GetTemplateAsync(Actor actor, Guid id, CancellationToken ct = default)
    {
        await access.RequireAsync(actor, Permission.CatalogReadEnabled, AccessTarget.Portal, "read template", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.VmTemplates.AsNoTracking().Where(t => t.Id == id)
            .Select(t => new { Template = t, SizeIds = t.AllowedSizes.Select(s => s.Id).ToList() })
            .FirstOrDefaultAsync(ct);
        await RequireVisibleAsync(actor, row?.Template.Enabled, "template", ct);
        return ToView(row!.Template, row.SizeIds);
    }

    /// <summary>One item: an enabled one for everyone signed in, a disabled one only for those who may read them all (admins).</summary>
    [Requires(Permission.CatalogReadEnabled)]
    public async Task<SizeView> GetSizeAsync(Actor actor, Guid id, CancellationToken ct = default)
    {
        await access.RequireAsync(actor, Permission.CatalogReadEnabled, AccessTarget.Portal, "read size", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var size = await db.VmSizes.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct);
        await RequireVisibleAsync(actor, size?.Enabled, "size", ct);
        return ToView(size!);
    }

    /// <summary>One item: an enabled one for everyone signed in, a disabled one only for those who may read them all (admins).</summary>
    [Requires(Permission.CatalogReadEnabled)]
    public async Task<OfferingView> GetOfferingAsync(Actor actor, Guid id, CancellationToken ct = default)
    {
        await access.RequireAsync(actor, Permission.CatalogReadEnabled, AccessTarget.Portal, "read database offering", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var offering = await db.DatabaseOfferings.AsNoTracking().FirstOrDefaultAsync(o => o.Id == id, ct);
        await RequireVisibleAsync(actor, offering?.Enabled, "database offering", ct);
        return ToView(offering!);
    }

    [Requires(Permission.CatalogEdit)]
    public async Task<Guid> CreateTemplateAsync(Actor actor, TemplateInput input, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await access.RequireAsync(actor, Permission.CatalogEdit, AccessTarget.Portal, "create template", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        CatalogRules.Validate(input);
        var name = input.Name.Trim();
        await EnsureNameFreeAsync(db.VmTemplates, name, null, "template", ct);
        var template = new VmTemplate { Id = Guid.CreateVersion7(time.GetUtcNow()), Name = name };
        Apply(template, input, await FindSizesAsync(db, input.AllowedSizeIds, ct));
        db.VmTemplates.Add(template);
        db.Record(time, actor, AuditActions.CatalogTemplateSaved, $"template {name}", null, "created: " + Describe(template));
        await db.SaveUniqueAsync("Name", "A template with that name already exists.", ct);
        LogSaved("template", name, actor.Name);
        return template.Id;
    }

    [Requires(Permission.CatalogEdit)]
    public Task UpdateTemplateAsync(Actor actor, Guid id, TemplateInput input, CancellationToken ct = default) =>
        UpdateTemplateAsync(actor, id, input, expectedVersion: null, ct);

    /// <summary>The same, only while the template is at <paramref name="expectedVersion"/> (the API's If-Match) when one is given.</summary>
    [Requires(Permission.CatalogEdit)]
    public async Task UpdateTemplateAsync(Actor actor, Guid id, TemplateInput input, long? expectedVersion, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await access.RequireAsync(actor, Permission.CatalogEdit, AccessTarget.Portal, "edit template", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var template = await db.VmTemplates.Include(t => t.AllowedSizes).FirstOrDefaultAsync(t => t.Id == id, ct)
            ?? throw new PortalNotFoundException("That template does not exist.");
        PortalConcurrencyException.ThrowIfStale(expectedVersion, template.Version, "The template");
        CatalogRules.Validate(input);
        var name = input.Name.Trim();
        await EnsureNameFreeAsync(db.VmTemplates, name, id, "template", ct);
        var before = $"\"{template.Name}\" {Describe(template)}";
        template.Name = name;
        Apply(template, input, await FindSizesAsync(db, input.AllowedSizeIds, ct));
        template.Version++;
        db.Record(time, actor, AuditActions.CatalogTemplateSaved, $"template {name}", null, $"updated from {before} to {Describe(template)}");
        await PortalConcurrencyException.SaveVersionedAsync(() => db.SaveUniqueAsync("Name", "A template with that name already exists.", ct), "The template");
        LogSaved("template", name, actor.Name);
    }

    [Requires(Permission.CatalogEdit)]
    public async Task<Guid> CreateSizeAsync(Actor actor, SizeInput input, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await access.RequireAsync(actor, Permission.CatalogEdit, AccessTarget.Portal, "create size", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        CatalogRules.Validate(input);
        var name = input.Name.Trim();
        await EnsureNameFreeAsync(db.VmSizes, name, null, "size", ct);
        var size = new VmSize { Id = Guid.CreateVersion7(time.GetUtcNow()), Name = name };
        Apply(size, input);
        db.VmSizes.Add(size);
        db.Record(time, actor, AuditActions.CatalogSizeSaved, $"size {name}", null, "created: " + Describe(size));
        await db.SaveUniqueAsync("Name", "A size with that name already exists.", ct);
        LogSaved("size", name, actor.Name);
        return size.Id;
    }

    [Requires(Permission.CatalogEdit)]
    public Task UpdateSizeAsync(Actor actor, Guid id, SizeInput input, CancellationToken ct = default) =>
        UpdateSizeAsync(actor, id, input, expectedVersion: null, ct);

    /// <summary>The same, only while the size is at <paramref name="expectedVersion"/> (the API's If-Match) when one is given.</summary>
    [Requires(Permission.CatalogEdit)]
    public async Task UpdateSizeAsync(Actor actor, Guid id, SizeInput input, long? expectedVersion, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await access.RequireAsync(actor, Permission.CatalogEdit, AccessTarget.Portal, "edit size", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var size = await db.VmSizes.FirstOrDefaultAsync(s => s.Id == id, ct)
            ?? throw new PortalNotFoundException("That size does not exist.");
        PortalConcurrencyException.ThrowIfStale(expectedVersion, size.Version, "The size");
        CatalogRules.Validate(input);
        var name = input.Name.Trim();
        await EnsureNameFreeAsync(db.VmSizes, name, id, "size", ct);
        var before = $"\"{size.Name}\" {Describe(size)}";
        size.Name = name;
        Apply(size, input);
        size.Version++;
        db.Record(time, actor, AuditActions.CatalogSizeSaved, $"size {name}", null, $"updated from {before} to {Describe(size)}");
        await PortalConcurrencyException.SaveVersionedAsync(() => db.SaveUniqueAsync("Name", "A size with that name already exists.", ct), "The size");
        LogSaved("size", name, actor.Name);
    }

    [Requires(Permission.CatalogEdit)]
    public async Task<Guid> CreateOfferingAsync(Actor actor, OfferingInput input, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await access.RequireAsync(actor, Permission.CatalogEdit, AccessTarget.Portal, "create database offering", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        CatalogRules.Validate(input);
        var name = input.Name.Trim();
        await EnsureNameFreeAsync(db.DatabaseOfferings, name, null, "database offering", ct);
        var offering = new DatabaseOffering { Id = Guid.CreateVersion7(time.GetUtcNow()), Name = name };
        Apply(offering, input);
        db.DatabaseOfferings.Add(offering);
        db.Record(time, actor, AuditActions.CatalogOfferingSaved, $"database offering {name}", null, "created: " + Describe(offering));
        await db.SaveUniqueAsync("Name", "A database offering with that name already exists.", ct);
        LogSaved("database offering", name, actor.Name);
        return offering.Id;
    }

    [Requires(Permission.CatalogEdit)]
    public Task UpdateOfferingAsync(Actor actor, Guid id, OfferingInput input, CancellationToken ct = default) =>
        UpdateOfferingAsync(actor, id, input, expectedVersion: null, ct);

    /// <summary>The same, only while the offering is at <paramref name="expectedVersion"/> (the API's If-Match) when one is given.</summary>
    [Requires(Permission.CatalogEdit)]
    public async Task UpdateOfferingAsync(Actor actor, Guid id, OfferingInput input, long? expectedVersion, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await access.RequireAsync(actor, Permission.CatalogEdit, AccessTarget.Portal, "edit database offering", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var offering = await db.DatabaseOfferings.FirstOrDefaultAsync(o => o.Id == id, ct)
            ?? throw new PortalNotFoundException("That database offering does not exist.");
        PortalConcurrencyException.ThrowIfStale(expectedVersion, offering.Version, "The database offering");
        CatalogRules.Validate(input);
        var name = input.Name.Trim();
        await EnsureNameFreeAsync(db.DatabaseOfferings, name, id, "database offering", ct);
        var before = $"\"{offering.Name}\" {Describe(offering)}";
        offering.Name = name;
        Apply(offering, input);
        offering.Version++;
        db.Record(time, actor, AuditActions.CatalogOfferingSaved, $"database offering {name}", null, $"updated from {before} to {Describe(offering)}");
        await PortalConcurrencyException.SaveVersionedAsync(
            () => db.SaveUniqueAsync("Name", "A database offering with that name already exists.", ct), "The database offering");
        LogSaved("database offering", name, actor.Name);
    }

    /// <summary>
    /// Offers an item for new requests again, or stops offering it. Existing resources built from a
    /// disabled item keep working. Setting the state it already has changes nothing.
    /// </summary>
    [Requires(Permission.CatalogEdit)]
    public Task SetEnabledAsync(Actor actor, CatalogItemKind kind, Guid id, bool enabled, CancellationToken ct = default) =>
        SetEnabledAsync(actor, kind, id, enabled, expectedVersion: null, ct);

    /// <summary>The same, only while the item is at <paramref name="expectedVersion"/> (the API's If-Match) when one is given.</summary>
    [Requires(Permission.CatalogEdit)]
    public async Task SetEnabledAsync(Actor actor, CatalogItemKind kind, Guid id, bool enabled, long? expectedVersion, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var word = KindWord(kind);
        await access.RequireAsync(actor, Permission.CatalogEdit, AccessTarget.Portal, $"{(enabled ? "enable" : "disable")} {word}", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var (name, current, version, set) = kind switch
        {
            CatalogItemKind.Template => await db.VmTemplates.FirstOrDefaultAsync(t => t.Id == id, ct) is { } t
                ? (t.Name, t.Enabled, t.Version, (Action<bool>)(value => (t.Enabled, t.Version) = (value, t.Version + 1))) : default,
            CatalogItemKind.Size => await db.VmSizes.FirstOrDefaultAsync(s => s.Id == id, ct) is { } s
                ? (s.Name, s.Enabled, s.Version, value => (s.Enabled, s.Version) = (value, s.Version + 1)) : default,
            _ => await db.DatabaseOfferings.FirstOrDefaultAsync(o => o.Id == id, ct) is { } o
                ? (o.Name, o.Enabled, o.Version, value => (o.Enabled, o.Version) = (value, o.Version + 1)) : default,
        };
        if (set is null)
            throw new PortalNotFoundException($"That {word} does not exist.");
        var what = "The " + word;
        PortalConcurrencyException.ThrowIfStale(expectedVersion, version, what);
        if (current == enabled)
            return;

        set(enabled);
        db.Record(time, actor, enabled ? AuditActions.CatalogItemEnabled : AuditActions.CatalogItemDisabled, $"{word} {name}");
        await PortalConcurrencyException.SaveVersionedAsync(() => db.SaveChangesAsync(ct), what);
    }

    private static IQueryable<VmSize> OrderSizes(IQueryable<VmSize> query) =>
        query.OrderBy(s => s.VCpus).ThenBy(s => s.RamMiB).ThenBy(s => s.DiskGiB).ThenBy(s => s.Name);

    private static async Task<List<VmSize>> FindSizesAsync(PortalDbContext db, IReadOnlyList<Guid> ids, CancellationToken ct)
    {
        var wanted = ids.Distinct().ToList();
        var sizes = await db.VmSizes.Where(s => wanted.Contains(s.Id)).ToListAsync(ct);
        if (sizes.Count != wanted.Count)
            throw new PortalValidationException(nameof(TemplateInput.AllowedSizeIds), "One of the chosen sizes does not exist (any more). Reload and choose again.");
        return sizes;
    }

    private static void Apply(VmTemplate template, TemplateInput input, List<VmSize> sizes)
    {
        template.Description = input.Description?.Trim() ?? "";
        template.OsLabel = input.OsLabel?.Trim() ?? "";
        template.ImageRef = input.ImageRef.Trim();
        template.DefaultLeaseDays = input.DefaultLeaseDays;
        template.HourlyPrice = input.HourlyPrice;
        // Change the many-to-many by difference, so that EF touches only the join rows that change.
        template.AllowedSizes.RemoveAll(s => !sizes.Contains(s));
        template.AllowedSizes.AddRange(sizes.Where(s => !template.AllowedSizes.Contains(s)));
    }

    private static void Apply(VmSize size, SizeInput input)
    {
        size.VCpus = input.VCpus;
        size.RamMiB = input.RamMiB;
        size.DiskGiB = input.DiskGiB;
        size.HourlyPrice = input.HourlyPrice;
    }

    private static void Apply(DatabaseOffering offering, OfferingInput input)
    {
        offering.Description = input.Description?.Trim() ?? "";
        offering.Engine = input.Engine;
        offering.StorageGiB = input.StorageGiB;
        offering.ConnectionLimit = input.ConnectionLimit;
        offering.DefaultLeaseDays = input.DefaultLeaseDays;
        offering.HourlyPrice = input.HourlyPrice;
    }

    private static TemplateView ToView(VmTemplate t, List<Guid> sizeIds) =>
        new(t.Id, t.Name, t.Description, t.OsLabel, t.ImageRef, t.DefaultLeaseDays, t.HourlyPrice, t.Enabled, sizeIds, t.Version);

    private static SizeView ToView(VmSize s) => new(s.Id, s.Name, s.VCpus, s.RamMiB, s.DiskGiB, s.HourlyPrice, s.Enabled, s.Version);

    private static OfferingView ToView(DatabaseOffering o) =>
        new(o.Id, o.Name, o.Description, o.Engine, o.StorageGiB, o.ConnectionLimit, o.DefaultLeaseDays, o.HourlyPrice, o.Enabled, o.Version);

    private static string KindWord(CatalogItemKind kind) => kind switch
    {
        CatalogItemKind.Template => "template",
        CatalogItemKind.Size => "size",
        CatalogItemKind.Offering => "database offering",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static string Describe(VmTemplate t) =>
        $"image {t.ImageRef}, OS \"{t.OsLabel}\", lease {t.DefaultLeaseDays} days, {t.HourlyPrice}/h, " +
        (t.AllowedSizes.Count == 0 ? "all sizes" : "sizes " + string.Join(", ", t.AllowedSizes.Select(s => s.Name).Order(StringComparer.OrdinalIgnoreCase)));

    private static string Describe(VmSize s) => $"{s.VCpus} vCPU, {s.RamMiB} MiB RAM, {s.DiskGiB} GiB disk, {s.HourlyPrice}/h";

    private static string Describe(DatabaseOffering o) =>
        $"{o.Engine}, {o.StorageGiB} GiB, {o.ConnectionLimit} connections, lease {o.DefaultLeaseDays} days, {o.HourlyPrice}/h";

    private static async Task EnsureNameFreeAsync<T>(DbSet<T> items, string name, Guid? except, string kind, CancellationToken ct)
        where T : class
    {
        // The Name columns are NOCASE, so this comparison ignores case just like the unique indexes.
        if (await items.AnyAsync(x => EF.Property<string>(x, "Name") == name && EF.Property<Guid>(x, "Id") != except, ct))
            throw new PortalValidationException("Name", $"A {kind} named \"{name}\" already exists.");
    }

    /// <summary>
    /// Refuses an item that does not exist (<paramref name="enabled"/> null) or is disabled for someone who may not read
    /// disabled ones, in the same words: a member cannot tell a disabled item from one that never was.
    /// </summary>
    private async Task RequireVisibleAsync(Actor actor, bool? enabled, string kind, CancellationToken ct)
    {
        if (enabled is null || (enabled == false && !await access.AllowsAsync(actor, Permission.CatalogReadAll, AccessTarget.Portal, ct)))
            throw new PortalNotFoundException($"That {kind} does not exist.");
    }

    private Task<AccessGrant> RequireReadAsync(Actor actor, bool includeDisabled, string what, CancellationToken ct) =>
        access.RequireAsync(actor, includeDisabled ? Permission.CatalogReadAll : Permission.CatalogReadEnabled, AccessTarget.Portal,
            includeDisabled ? what + " (disabled included)" : what, ct);

    [LoggerMessage(LogLevel.Information, "Catalog {Kind} \"{Name}\" saved by {Actor}")]
    private partial void LogSaved(string kind, string name, string actor);
}
