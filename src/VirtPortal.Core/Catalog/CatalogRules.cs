namespace VirtPortal.Core.Catalog;

public static class CatalogRules
{
    public const int NameMaxLength = 64;
}
