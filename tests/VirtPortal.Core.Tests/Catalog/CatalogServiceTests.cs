using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Catalog;
using VirtPortal.Core.Common;
using VirtPortal.Core.Demo;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Tests.Catalog;

public sealed class CatalogServiceTests : PortalTestBase
{
    private CatalogService Catalog => Host.Services.GetRequiredService<CatalogService>();

    private static SizeInput Size(string name = "medium", int vcpus = 2, int ramMiB = 4096, int diskGiB = 40, decimal price = 0.04m) =>
        new(name, vcpus, ramMiB, diskGiB, price);

    private static TemplateInput Template(string name = "Debian 12", string imageRef = "debian-12-base", int leaseDays = 30,
        decimal price = 0m, params Guid[] sizes) =>
        new(name, "Stable", "Debian 12", imageRef, leaseDays, price, sizes);

    private static OfferingInput Offering(string name = "PostgreSQL small", int storageGiB = 10, int connections = 50, int leaseDays = 30,
        decimal price = 0.02m) =>
        new(name, null, DatabaseEngineKind.PostgreSql, storageGiB, connections, leaseDays, price);

    [Fact]
    public async Task Admin_creates_a_size_with_its_monthly_price_and_the_audit_entry_names_the_admin()
    {
        var admin = await Host.AdminAsync();

        var id = await Catalog.CreateSizeAsync(admin, Size(name: "  medium "), Ct);

        var size = Assert.Single(await Catalog.ListSizesAsync(Actor.System, includeDisabled: false, Ct));
        Assert.Equal((id, "medium", 2, 4096, 40, 0.04m, 29.20m), (size.Id, size.Name, size.VCpus, size.RamMiB, size.DiskGiB, size.HourlyPrice, size.MonthlyPrice));
        var entry = Assert.Single(await Host.AuditAsync(AuditActions.CatalogSizeSaved));
        Assert.Equal((admin.UserId, "size medium"), (entry.ActorId, entry.Target));
    }

    [Theory]
    [InlineData(1, 128, 1)]
    [InlineData(512, 4_194_304, 65_536)]
    public async Task Sizes_exactly_at_the_limits_are_accepted(int vcpus, int ramMiB, int diskGiB)
    {
        var admin = await Host.AdminAsync();

        await Catalog.CreateSizeAsync(admin, Size(vcpus: vcpus, ramMiB: ramMiB, diskGiB: diskGiB, price: 10_000m), Ct);

        Assert.Single(await Catalog.ListSizesAsync(Actor.System, includeDisabled: false, Ct));
    }

    [Theory]
    [InlineData(0, 4096, 40, "0.04", nameof(SizeInput.VCpus), "At least 1 vCPU.")]
    [InlineData(513, 4096, 40, "0.04", nameof(SizeInput.VCpus), "At most 512 vCPUs.")]
    [InlineData(2, 127, 40, "0.04", nameof(SizeInput.RamMiB), "At least 128 MiB of RAM.")]
    [InlineData(2, 4_194_305, 40, "0.04", nameof(SizeInput.RamMiB), "At most 4,194,304 MiB of RAM.")]
    [InlineData(2, 4096, 0, "0.04", nameof(SizeInput.DiskGiB), "At least 1 GiB of disk.")]
    [InlineData(2, 4096, 65_537, "0.04", nameof(SizeInput.DiskGiB), "At most 65,536 GiB of disk.")]
    [InlineData(2, 4096, 40, "-0.01", nameof(SizeInput.HourlyPrice), "A price cannot be negative (use 0 for free).")]
    [InlineData(2, 4096, 40, "10000.01", nameof(SizeInput.HourlyPrice), "At most 10,000 per hour.")]
    public async Task A_size_just_past_a_limit_is_refused_with_a_message_for_that_field(
        int vcpus, int ramMiB, int diskGiB, string price, string field, string message)
    {
        var admin = await Host.AdminAsync();

        var e = await Assert.ThrowsAsync<PortalValidationException>(() => Catalog.CreateSizeAsync(
            admin, Size(vcpus: vcpus, ramMiB: ramMiB, diskGiB: diskGiB, price: decimal.Parse(price, System.Globalization.CultureInfo.InvariantCulture)), Ct));

        Assert.Equal(message, e.For(field));
        Assert.Single(e.Errors);
        Assert.Empty(await Catalog.ListSizesAsync(Actor.System, includeDisabled: true, Ct));
    }

    [Theory]
    [InlineData("", "Enter a name for the size.")]
    [InlineData("x", "A size name has at least 2 characters.")]
    public async Task A_missing_or_too_short_name_is_refused(string name, string message)
    {
        var admin = await Host.AdminAsync();

        var e = await Assert.ThrowsAsync<PortalValidationException>(() => Catalog.CreateSizeAsync(admin, Size(name: name), Ct));

        Assert.Equal(message, e.For("Name"));
    }

    [Fact]
    public async Task Names_of_two_and_sixty_four_characters_are_accepted_and_sixty_five_is_refused()
    {
        var admin = await Host.AdminAsync();

        await Catalog.CreateSizeAsync(admin, Size(name: "xs"), Ct);
        await Catalog.CreateSizeAsync(admin, Size(name: new string('m', 64)), Ct);
        var e = await Assert.ThrowsAsync<PortalValidationException>(() => Catalog.CreateSizeAsync(admin, Size(name: new string('l', 65)), Ct));

        Assert.Equal("A size name has at most 64 characters.", e.For("Name"));
        Assert.Equal(2, (await Catalog.ListSizesAsync(Actor.System, includeDisabled: true, Ct)).Count);
    }

    [Fact]
    public async Task A_duplicate_name_in_another_case_is_refused_for_each_kind()
    {
        var admin = await Host.AdminAsync();
        await Catalog.CreateSizeAsync(admin, Size(name: "medium"), Ct);
        await Catalog.CreateTemplateAsync(admin, Template(name: "Debian 12"), Ct);
        await Catalog.CreateOfferingAsync(admin, Offering(name: "PostgreSQL small"), Ct);

        var size = await Assert.ThrowsAsync<PortalValidationException>(() => Catalog.CreateSizeAsync(admin, Size(name: "MEDIUM"), Ct));
        var template = await Assert.ThrowsAsync<PortalValidationException>(() => Catalog.CreateTemplateAsync(admin, Template(name: "debian 12"), Ct));
        var offering = await Assert.ThrowsAsync<PortalValidationException>(() => Catalog.CreateOfferingAsync(admin, Offering(name: "postgresql SMALL"), Ct));

        Assert.Equal("A size named \"MEDIUM\" already exists.", size.For("Name"));
        Assert.Equal("A template named \"debian 12\" already exists.", template.For("Name"));
        Assert.Equal("A database offering named \"postgresql SMALL\" already exists.", offering.For("Name"));
    }

    [Fact]
    public async Task Renaming_an_item_to_its_own_name_in_another_case_is_allowed()
    {
        var admin = await Host.AdminAsync();
        var id = await Catalog.CreateSizeAsync(admin, Size(name: "medium"), Ct);

        await Catalog.UpdateSizeAsync(admin, id, Size(name: "Medium", vcpus: 4), Ct);

        var size = Assert.Single(await Catalog.ListSizesAsync(Actor.System, includeDisabled: true, Ct));
        Assert.Equal(("Medium", 4), (size.Name, size.VCpus));
        Assert.Equal(2, (await Host.AuditAsync(AuditActions.CatalogSizeSaved)).Count);
    }

    [Theory]
    [InlineData("", "Enter the image the hypervisor starts from (a volume name or path).")]
    [InlineData("debian 12", "An image reference cannot contain spaces or control characters.")]
    public async Task A_template_needs_an_image_reference_without_whitespace(string imageRef, string message)
    {
        var admin = await Host.AdminAsync();

        var e = await Assert.ThrowsAsync<PortalValidationException>(() => Catalog.CreateTemplateAsync(admin, Template(imageRef: imageRef), Ct));

        Assert.Equal(message, e.For(nameof(TemplateInput.ImageRef)));
    }

    [Fact]
    public async Task Template_limits_are_inclusive()
    {
        var admin = await Host.AdminAsync();

        await Catalog.CreateTemplateAsync(admin, Template(name: "one", imageRef: new string('i', 500), leaseDays: 1, price: 0m), Ct);
        await Catalog.CreateTemplateAsync(admin, Template(name: "two", leaseDays: 365, price: 10_000m), Ct);
        var tooLong = await Assert.ThrowsAsync<PortalValidationException>(() =>
            Catalog.CreateTemplateAsync(admin, Template(name: "three", imageRef: new string('i', 501), leaseDays: 366), Ct));

        Assert.Equal("An image reference has at most 500 characters.", tooLong.For(nameof(TemplateInput.ImageRef)));
        Assert.Equal("At most 365 days.", tooLong.For(nameof(TemplateInput.DefaultLeaseDays)));
        Assert.Equal(2, (await Catalog.ListTemplatesAsync(Actor.System, includeDisabled: true, Ct)).Count);
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(65_536, 10_000, 365)]
    public async Task Offerings_exactly_at_the_limits_are_accepted(int storageGiB, int connections, int leaseDays)
    {
        var admin = await Host.AdminAsync();

        await Catalog.CreateOfferingAsync(admin, Offering(storageGiB: storageGiB, connections: connections, leaseDays: leaseDays), Ct);

        Assert.Single(await Catalog.ListOfferingsAsync(Actor.System, includeDisabled: false, Ct));
    }

    [Fact]
    public async Task Offerings_just_past_the_limits_are_refused_field_by_field()
    {
        var admin = await Host.AdminAsync();

        var low = await Assert.ThrowsAsync<PortalValidationException>(() =>
            Catalog.CreateOfferingAsync(admin, Offering(storageGiB: 0, connections: 0, leaseDays: 0), Ct));
        var high = await Assert.ThrowsAsync<PortalValidationException>(() =>
            Catalog.CreateOfferingAsync(admin, Offering(storageGiB: 65_537, connections: 10_001, leaseDays: 366), Ct));

        Assert.Equal(
            ("At least 1 GiB of storage.", "At least 1 connection.", "At least 1 day."),
            (low.For(nameof(OfferingInput.StorageGiB)), low.For(nameof(OfferingInput.ConnectionLimit)), low.For(nameof(OfferingInput.DefaultLeaseDays))));
        Assert.Equal(
            ("At most 65,536 GiB of storage.", "At most 10,000 connections.", "At most 365 days."),
            (high.For(nameof(OfferingInput.StorageGiB)), high.For(nameof(OfferingInput.ConnectionLimit)), high.For(nameof(OfferingInput.DefaultLeaseDays))));
        Assert.Empty(await Catalog.ListOfferingsAsync(Actor.System, includeDisabled: true, Ct));
    }

    [Fact]
    public async Task An_unknown_allowed_size_is_refused_on_the_allowed_sizes_field()
    {
        var admin = await Host.AdminAsync();

        var e = await Assert.ThrowsAsync<PortalValidationException>(() => Catalog.CreateTemplateAsync(admin, Template(sizes: Guid.NewGuid()), Ct));

        Assert.NotNull(e.For(nameof(TemplateInput.AllowedSizeIds)));
        Assert.Empty(await Catalog.ListTemplatesAsync(Actor.System, includeDisabled: true, Ct));
    }

    [Theory]
    [InlineData(GlobalRoles.Approver)]
    [InlineData(GlobalRoles.Helpdesk)]
    [InlineData(null)]
    public async Task Non_admin_cannot_change_the_catalog_and_each_denial_is_audited(string? role)
    {
        var admin = await Host.AdminAsync();
        var sizeId = await Catalog.CreateSizeAsync(admin, Size(), Ct);
        var user = role is null ? await Host.CreateUserAsync("user@test.local") : await Host.CreateUserAsync("user@test.local", role);

        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Catalog.CreateSizeAsync(user, Size(name: "large"), Ct));
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Catalog.UpdateSizeAsync(user, sizeId, Size(vcpus: 64), Ct));
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Catalog.CreateTemplateAsync(user, Template(), Ct));
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Catalog.CreateOfferingAsync(user, Offering(), Ct));
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Catalog.SetEnabledAsync(user, CatalogItemKind.Size, sizeId, false, Ct));

        var size = Assert.Single(await Catalog.ListSizesAsync(Actor.System, includeDisabled: true, Ct));
        Assert.Equal((2, true), (size.VCpus, size.Enabled));
        Assert.Empty(await Catalog.ListTemplatesAsync(Actor.System, includeDisabled: true, Ct));
        Assert.Empty(await Catalog.ListOfferingsAsync(Actor.System, includeDisabled: true, Ct));
        var denials = await Host.AuditAsync(AuditActions.AccessDenied);
        Assert.Equal(["create size", "edit size", "create template", "create database offering", "disable size"], denials.Select(d => d.Details));
        Assert.All(denials, d => Assert.Equal((user.UserId, "catalog"), (d.ActorId, d.Target)));
    }

    [Fact]
    public async Task Disabling_keeps_the_row_but_hides_it_from_lists_of_enabled_items()
    {
        var admin = await Host.AdminAsync();
        var templateId = await Catalog.CreateTemplateAsync(admin, Template(), Ct);
        var sizeId = await Catalog.CreateSizeAsync(admin, Size(), Ct);
        var offeringId = await Catalog.CreateOfferingAsync(admin, Offering(), Ct);

        await Catalog.SetEnabledAsync(admin, CatalogItemKind.Template, templateId, false, Ct);
        await Catalog.SetEnabledAsync(admin, CatalogItemKind.Size, sizeId, false, Ct);
        await Catalog.SetEnabledAsync(admin, CatalogItemKind.Offering, offeringId, false, Ct);

        Assert.Empty(await Catalog.ListTemplatesAsync(Actor.System, includeDisabled: false, Ct));
        Assert.Empty(await Catalog.ListSizesAsync(Actor.System, includeDisabled: false, Ct));
        Assert.Empty(await Catalog.ListOfferingsAsync(Actor.System, includeDisabled: false, Ct));
        Assert.False(Assert.Single(await Catalog.ListTemplatesAsync(Actor.System, includeDisabled: true, Ct)).Enabled);
        Assert.False(Assert.Single(await Catalog.ListSizesAsync(Actor.System, includeDisabled: true, Ct)).Enabled);
        Assert.False(Assert.Single(await Catalog.ListOfferingsAsync(Actor.System, includeDisabled: true, Ct)).Enabled);
        Assert.Equal(["template Debian 12", "size medium", "database offering PostgreSQL small"],
            (await Host.AuditAsync(AuditActions.CatalogItemDisabled)).Select(e => e.Target));
    }

    [Fact]
    public async Task Enabling_again_offers_the_item_and_setting_the_same_state_twice_audits_once()
    {
        var admin = await Host.AdminAsync();
        var sizeId = await Catalog.CreateSizeAsync(admin, Size(), Ct);

        await Catalog.SetEnabledAsync(admin, CatalogItemKind.Size, sizeId, false, Ct);
        await Catalog.SetEnabledAsync(admin, CatalogItemKind.Size, sizeId, false, Ct);
        await Catalog.SetEnabledAsync(admin, CatalogItemKind.Size, sizeId, true, Ct);

        Assert.Single(await Catalog.ListSizesAsync(Actor.System, includeDisabled: false, Ct));
        Assert.Single(await Host.AuditAsync(AuditActions.CatalogItemDisabled));
        Assert.Single(await Host.AuditAsync(AuditActions.CatalogItemEnabled));
    }

    [Fact]
    public async Task A_template_runs_at_the_enabled_sizes_it_allows_or_at_every_enabled_size_when_it_names_none()
    {
        var admin = await Host.AdminAsync();
        var small = await Catalog.CreateSizeAsync(admin, Size(name: "small", vcpus: 1), Ct);
        var medium = await Catalog.CreateSizeAsync(admin, Size(name: "medium", vcpus: 2), Ct);
        await Catalog.CreateSizeAsync(admin, Size(name: "large", vcpus: 8), Ct);
        var picky = await Catalog.CreateTemplateAsync(admin, Template(name: "picky", sizes: [small, medium]), Ct);
        var open = await Catalog.CreateTemplateAsync(admin, Template(name: "open"), Ct);
        await Catalog.SetEnabledAsync(admin, CatalogItemKind.Size, medium, false, Ct);

        var pickySizes = await Catalog.SizesForTemplateAsync(Actor.System, picky, Ct);
        var openSizes = await Catalog.SizesForTemplateAsync(Actor.System, open, Ct);

        Assert.Equal(["small"], pickySizes.Select(s => s.Name));
        Assert.Equal(["small", "large"], openSizes.Select(s => s.Name));
        Assert.Equal(new[] { small, medium }.Order(), (await Catalog.ListTemplatesAsync(Actor.System, includeDisabled: false, Ct)).Single(t => t.Name == "picky").AllowedSizeIds.Order());
    }

    [Fact]
    public async Task Editing_a_template_replaces_its_allowed_sizes()
    {
        var admin = await Host.AdminAsync();
        var small = await Catalog.CreateSizeAsync(admin, Size(name: "small", vcpus: 1), Ct);
        var large = await Catalog.CreateSizeAsync(admin, Size(name: "large", vcpus: 8), Ct);
        var id = await Catalog.CreateTemplateAsync(admin, Template(sizes: [small]), Ct);

        await Catalog.UpdateTemplateAsync(admin, id, Template(sizes: [large]), Ct);

        Assert.Equal(["large"], (await Catalog.SizesForTemplateAsync(Actor.System, id, Ct)).Select(s => s.Name));
        await Catalog.UpdateTemplateAsync(admin, id, Template(), Ct);
        Assert.Equal(["small", "large"], (await Catalog.SizesForTemplateAsync(Actor.System, id, Ct)).Select(s => s.Name));
    }

    [Fact]
    public async Task Sizes_for_an_unknown_template_are_not_found()
    {
        await Assert.ThrowsAsync<PortalNotFoundException>(() => Catalog.SizesForTemplateAsync(Actor.System, Guid.NewGuid(), Ct));
    }

    [Fact]
    public async Task Seeding_the_demo_catalog_twice_adds_it_once()
    {
        await using (var db = Host.NewDb())
        {
            Assert.True(await DemoCatalog.SeedAsync(db, Host.Time, Ct));
            await db.SaveChangesAsync(Ct);
        }

        await using (var db = Host.NewDb())
        {
            Assert.False(await DemoCatalog.SeedAsync(db, Host.Time, Ct));
            await db.SaveChangesAsync(Ct);
        }

        Assert.Equal(["small", "medium", "large"], (await Catalog.ListSizesAsync(Actor.System, includeDisabled: true, Ct)).Select(s => s.Name));
        Assert.Equal(["PostgreSQL small", "SQLite embedded"], (await Catalog.ListOfferingsAsync(Actor.System, includeDisabled: true, Ct)).Select(o => o.Name));
        var templates = await Catalog.ListTemplatesAsync(Actor.System, includeDisabled: true, Ct);
        Assert.Equal([DemoCatalog.DebianTemplate, DemoCatalog.TestGuestTemplate], templates.Select(t => t.Name));
        Assert.Equal(["small", "medium", "large"], (await Catalog.SizesForTemplateAsync(Actor.System, templates[0].Id, Ct)).Select(s => s.Name));
        Assert.Equal(["small", "medium"], (await Catalog.SizesForTemplateAsync(Actor.System, templates[1].Id, Ct)).Select(s => s.Name));
    }

    [Fact]
    public async Task Demo_mode_seeds_the_catalog_on_first_start_and_not_again_on_restart()
    {
        await using var demo = await PortalTestHost.StartAsync(new Dictionary<string, string?> { ["Demo:Enabled"] = "true", ["Demo:Password"] = "demo-password-for-tests" });
        var catalog = demo.Services.GetRequiredService<CatalogService>();

        // StartAsync ran the first start; this is a restart.
        await demo.InitializeAsync();

        Assert.Equal(3, (await catalog.ListSizesAsync(Actor.System, includeDisabled: true, Ct)).Count);
        Assert.Equal(2, (await catalog.ListTemplatesAsync(Actor.System, includeDisabled: true, Ct)).Count);
        Assert.Equal(2, (await catalog.ListOfferingsAsync(Actor.System, includeDisabled: true, Ct)).Count);
        await using var db = demo.NewDb();
        Assert.Equal(3, await db.VmSizes.CountAsync(Ct));
    }
}
