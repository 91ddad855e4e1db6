using VirtPortal.Core.Catalog;
using VirtPortal.Core.Policies;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Tokens;

namespace VirtPortal.Web.Api;

/// <summary>An endpoint's examples in the OpenAPI document: its request body and its answer.</summary>
public sealed record ApiExample(object? Request, object? Response);

/// <summary>
/// The sample values the OpenAPI document shows, one per endpoint, built from the same records the API
/// answers with, so an example cannot drift from the shape it illustrates.
/// </summary>
public static class ApiExamples
{
    private static readonly Guid Tenant = Guid.Parse("019ae1f4-3b80-7d6c-9d2e-6c1f0a7b2d11");
    private static readonly Guid Template = Guid.Parse("019ae1f4-3b80-7a01-8c3d-2b9e5f6a7c01");
    private static readonly Guid Size = Guid.Parse("019ae1f4-3b80-7a02-9d4e-3c0f6a7b8d02");
    private static readonly Guid Offering = Guid.Parse("019ae1f4-3b80-7a03-ae5f-4d1a7b8c9e03");
    private static readonly Guid Request = Guid.Parse("019ae1f5-0c2a-7e4b-8f6a-1b2c3d4e5f60");
    private static readonly Guid Resource = Guid.Parse("019ae1f5-1d3b-7f5c-9a7b-2c3d4e5f6a71");
    private static readonly Guid Operation = Guid.Parse("019ae1f6-2e4c-7a6d-8b8c-3d4e5f6a7b82");
    private static readonly Guid Token = Guid.Parse("019ae1f7-3f5d-7b7e-9c9d-4e5f6a7b8c93");
    private static readonly DateTimeOffset At = new(2026, 12, 1, 9, 30, 0, TimeSpan.Zero);

    public static TBuilder WithExamples<TBuilder>(this TBuilder builder, object? request = null, object? response = null)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(new ApiExample(request, response));

    public static ApiPage<T> PageOf<T>(T item) => new([item], null);

    public static TemplateView TemplateView { get; } = new(Template, "Debian 12", "Debian stable with cloud-init.", "Debian 12", "debian-12-base", 30, 0.00m, true, [Size]);

    public static SizeView SizeView { get; } = new(Size, "small", 1, 1024, 10, 0.01m, true);

    public static OfferingView OfferingView { get; } = new(Offering, "PostgreSQL small", "A PostgreSQL database on the shared server.", DatabaseEngineKind.PostgreSql, 5, 20, 30, 0.02m, true);

    public static RequestDraft NewVm { get; } = new()
    {
        Kind = RequestKind.NewVm, TenantId = Tenant, Name = "build-agent", TemplateId = Template, SizeId = Size, LeaseDays = 30,
        Justification = "CI build agent for the payments team",
    };

    public static RequestSummary RequestSummary { get; } = new(
        Request, Tenant, "Acme Research", RequestKind.NewVm, RequestState.PendingApproval, "build-agent", "Mia Member", At, 1, 1, false, 7.30m, null, 2);

    public static RequestDetails RequestDetails { get; } = new(
        RequestSummary, new ResourceDemand { VCpus = 1, RamMiB = 1024, DiskGiB = 10, Vms = 1 }, null, 30, "CI build agent for the payments team", null,
        [
            new RequestTimelineEntry(At, "Mia Member", null, RequestState.Submitted, "VM build-agent submitted"),
            new RequestTimelineEntry(At, "Mia Member", RequestState.Submitted, RequestState.PendingApproval,
                "needs approval because the lease is longer than 14 days; stage 1 of 1: any approver"),
        ],
        CanCancel: true, CanDecide: false);

    public static Preflight Preflight { get; } = new(
        new Dictionary<string, string[]>(),
        QuotaCheck.For(TenantQuota.Default, new ResourceDemand { VCpus = 4, RamMiB = 8192, DiskGiB = 80, Vms = 2 }, new ResourceDemand { VCpus = 1, RamMiB = 1024, DiskGiB = 10, Vms = 1 }),
        new PolicyVerdict(false, ["the lease is longer than 14 days"], [new ApprovalStage()]), 7.30m, ["any approver"]);

    public static InboxItem InboxItem { get; } = new(RequestSummary, Preflight);

    public static RejectBody RejectBody { get; } = new("Use the shared build pool instead; see the wiki.");

    public static BulkApproveBody BulkApproveBody { get; } = new([Request]);

    public static IReadOnlyList<BulkOutcome> BulkOutcomes { get; } = [new BulkOutcome(Request, true, null)];

    public static ResourceSummary ResourceSummary { get; } = new(
        Resource, Tenant, "build-agent", ResourceKind.Vm, ResourceState.Running, 1, 1024, 10, At.AddDays(30), 0, false, 4, "kvm-1", null,
        ResourceState.Running, At.AddMinutes(5), null);

    public static WallRow WallRow { get; } = new(ResourceSummary, "Acme Research", Core.Hosts.HostState.Online, At.AddMinutes(5));

    public static ResourceOperationView OperationView { get; } =
        new(Operation, OperationKind.Reboot, OperationState.Pending, 0, At, null, null, null) { ResourceId = Resource };

    public static ResourceDetails ResourceDetails { get; } = new(
        ResourceSummary, At, "kvm-1: most free memory (12 GiB) among 2 online hosts", [OperationView with { State = OperationState.Succeeded, Attempts = 1, FinishedAt = At.AddSeconds(8) }],
        null, Core.Hosts.HostState.Online, At.AddMinutes(5));

    public static DeleteBody DeleteBody { get; } = new("build-agent");

    public static ApiTokenDraft TokenDraft { get; } = new("ci-pipeline", At.AddDays(90), Tenant, ReadOnly: false);

    public static ApiTokenView TokenView { get; } =
        new(Token, "ci-pipeline", "vpt_Xq7k…", Tenant, "Acme Research", false, At, At.AddDays(90), At.AddHours(2), null, ApiTokenState.Active);

    public static CreatedApiToken CreatedToken { get; } = new(TokenView with { LastUsedAt = null }, "vpt_Xq7kR2mZ9pL4tW8yB3nC6dF5gH2jK7sA1eQ0uV9xYzw");
}
