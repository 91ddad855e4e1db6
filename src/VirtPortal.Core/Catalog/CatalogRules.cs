using VirtPortal.Core.Common;

namespace VirtPortal.Core.Catalog;

/// <summary>What an admin enters for a VM template; the field names key the validation messages.</summary>
public sealed record TemplateInput(
    string Name, string? Description, string? OsLabel, string ImageRef, int DefaultLeaseDays, decimal HourlyPrice,
    IReadOnlyList<Guid> AllowedSizeIds);

public sealed record SizeInput(string Name, int VCpus, int RamMiB, int DiskGiB, decimal HourlyPrice);

public sealed record OfferingInput(
    string Name, string? Description, DatabaseEngineKind Engine, int StorageGiB, int ConnectionLimit, int DefaultLeaseDays,
    decimal HourlyPrice);

/// <summary>Input rules for catalog items, shared by the forms (as-you-type) and the service (authoritative).</summary>
public static class CatalogRules
{
    public const int NameMinLength = 2;
    public const int NameMaxLength = 64;
    public const int DescriptionMaxLength = 500;
    public const int OsLabelMaxLength = 100;
    public const int ImageRefMaxLength = 500;

    public const int MinVCpus = 1;
    public const int MaxVCpus = 512;
    public const int MinRamMiB = 128;
    public const int MaxRamMiB = 4 * 1024 * 1024;
    public const int MinDiskGiB = 1;
    public const int MaxDiskGiB = 64 * 1024;
    public const int MinStorageGiB = 1;
    public const int MaxStorageGiB = 64 * 1024;
    public const int MinConnectionLimit = 1;
    public const int MaxConnectionLimit = 10_000;
    public const int MinLeaseDays = 1;
    public const int MaxLeaseDays = 365;
    public const decimal MaxHourlyPrice = 10_000m;

    /// <summary>What is wrong with <paramref name="name"/> for an item of <paramref name="kind"/> ("template"), or null.</summary>
    public static string? NameError(string? name, string kind)
    {
        var trimmed = name?.Trim() ?? "";
        if (trimmed.Length == 0)
            return $"Enter a name for the {kind}.";
        if (trimmed.Length < NameMinLength)
            return $"A {kind} name has at least {NameMinLength} characters.";
        if (trimmed.Length > NameMaxLength)
            return $"A {kind} name has at most {NameMaxLength} characters.";
        if (trimmed.Any(char.IsControl))
            return $"A {kind} name cannot contain control characters.";
        return null;
    }

    public static string? DescriptionError(string? description) =>
        (description?.Trim().Length ?? 0) > DescriptionMaxLength
            ? $"A description has at most {DescriptionMaxLength} characters."
            : null;

    public static string? OsLabelError(string? osLabel) =>
        (osLabel?.Trim().Length ?? 0) > OsLabelMaxLength
            ? $"An operating system label has at most {OsLabelMaxLength} characters."
            : null;

    public static string? ImageRefError(string? imageRef)
    {
        var trimmed = imageRef?.Trim() ?? "";
        if (trimmed.Length == 0)
            return "Enter the image the hypervisor starts from (a volume name or path).";
        if (trimmed.Length > ImageRefMaxLength)
            return $"An image reference has at most {ImageRefMaxLength} characters.";
        if (trimmed.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            return "An image reference cannot contain spaces or control characters.";
        return null;
    }

    public static string? PriceError(decimal hourlyPrice)
    {
        if (hourlyPrice < 0)
            return "A price cannot be negative (use 0 for free).";
        if (hourlyPrice > MaxHourlyPrice)
            return $"At most {MaxHourlyPrice:N0} per hour.";
        return null;
    }

    /// <summary>Null when <paramref name="value"/> is within min..max; <paramref name="one"/> is the unit's singular.</summary>
    public static string? RangeError(int value, int min, int max, string unit, string? one = null) =>
        value < min ? $"At least {min:N0} {(min == 1 ? one ?? unit : unit)}."
        : value > max ? $"At most {max:N0} {unit}."
        : null;

    /// <summary>Messages keyed by the <see cref="TemplateInput"/> field they belong to; empty when valid.</summary>
    public static Dictionary<string, string[]> TemplateErrors(TemplateInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var errors = new Dictionary<string, string[]>();
        Add(errors, nameof(TemplateInput.Name), NameError(input.Name, "template"));
        Add(errors, nameof(TemplateInput.Description), DescriptionError(input.Description));
        Add(errors, nameof(TemplateInput.OsLabel), OsLabelError(input.OsLabel));
        Add(errors, nameof(TemplateInput.ImageRef), ImageRefError(input.ImageRef));
        Add(errors, nameof(TemplateInput.DefaultLeaseDays), RangeError(input.DefaultLeaseDays, MinLeaseDays, MaxLeaseDays, "days", "day"));
        Add(errors, nameof(TemplateInput.HourlyPrice), PriceError(input.HourlyPrice));
        if (input.AllowedSizeIds is null)
            errors[nameof(TemplateInput.AllowedSizeIds)] = ["Choose the allowed sizes (none for all)."];
        return errors;
    }

    /// <summary>Messages keyed by the <see cref="SizeInput"/> field they belong to; empty when valid.</summary>
    public static Dictionary<string, string[]> SizeErrors(SizeInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var errors = new Dictionary<string, string[]>();
        Add(errors, nameof(SizeInput.Name), NameError(input.Name, "size"));
        Add(errors, nameof(SizeInput.VCpus), RangeError(input.VCpus, MinVCpus, MaxVCpus, "vCPUs", "vCPU"));
        Add(errors, nameof(SizeInput.RamMiB), RangeError(input.RamMiB, MinRamMiB, MaxRamMiB, "MiB of RAM"));
        Add(errors, nameof(SizeInput.DiskGiB), RangeError(input.DiskGiB, MinDiskGiB, MaxDiskGiB, "GiB of disk"));
        Add(errors, nameof(SizeInput.HourlyPrice), PriceError(input.HourlyPrice));
        return errors;
    }

    /// <summary>Messages keyed by the <see cref="OfferingInput"/> field they belong to; empty when valid.</summary>
    public static Dictionary<string, string[]> OfferingErrors(OfferingInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var errors = new Dictionary<string, string[]>();
        Add(errors, nameof(OfferingInput.Name), NameError(input.Name, "database offering"));
        Add(errors, nameof(OfferingInput.Description), DescriptionError(input.Description));
        if (!Enum.IsDefined(input.Engine))
            errors[nameof(OfferingInput.Engine)] = ["Choose a database engine."];
        Add(errors, nameof(OfferingInput.StorageGiB), RangeError(input.StorageGiB, MinStorageGiB, MaxStorageGiB, "GiB of storage"));
        Add(errors, nameof(OfferingInput.ConnectionLimit), RangeError(input.ConnectionLimit, MinConnectionLimit, MaxConnectionLimit, "connections", "connection"));
        Add(errors, nameof(OfferingInput.DefaultLeaseDays), RangeError(input.DefaultLeaseDays, MinLeaseDays, MaxLeaseDays, "days", "day"));
        Add(errors, nameof(OfferingInput.HourlyPrice), PriceError(input.HourlyPrice));
        return errors;
    }

    public static void Validate(TemplateInput input) => ThrowIfAny(TemplateErrors(input));

    public static void Validate(SizeInput input) => ThrowIfAny(SizeErrors(input));

    public static void Validate(OfferingInput input) => ThrowIfAny(OfferingErrors(input));

    private static void Add(Dictionary<string, string[]> errors, string field, string? message)
    {
        if (message is not null)
            errors[field] = [message];
    }

    private static void ThrowIfAny(Dictionary<string, string[]> errors)
    {
        if (errors.Count > 0)
            throw new PortalValidationException(errors);
    }
}
