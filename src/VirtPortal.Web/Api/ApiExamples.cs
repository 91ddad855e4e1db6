using VirtPortal.Core.Audit;
using VirtPortal.Core.Catalog;
using VirtPortal.Core.Databases;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Monitoring;
using VirtPortal.Core.Policies;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Reconciliation;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Tokens;
using VirtPortal.Core.Users;

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
    private static readonly Guid Database = Guid.Parse("019ae1f8-4a6e-7c8f-8dae-5f6a7b8c9da4");
    private static readonly Guid Backup = Guid.Parse("019ae1f9-5b7f-7d90-9ebf-6a7b8c9daeb5");
    private static readonly Guid Host = Guid.Parse("019ae1fa-6c80-7ea1-8fc0-7b8c9daebfc6");
    private static readonly Guid Server = Guid.Parse("019ae1fb-7d91-7fb2-90d1-8c9daebfc0d7");
    private const string User = "5d0c7f3e-2b1a-4c9d-8e7f-6a5b4c3d2e1f";
    private static readonly DateTimeOffset At = new(2026, 12, 1, 9, 30, 0, TimeSpan.Zero);

    public static Guid TenantId => Tenant;

    public static TBuilder WithExamples<TBuilder>(this TBuilder builder, object? request = null, object? response = null)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(new ApiExample(request, response));

    public static ApiPage<T> PageOf<T>(T item) => new([item], null);

    public static TemplateView TemplateView { get; } = new(Template, "Debian 12", "Debian stable with cloud-init.", "Debian 12", "debian-12-base", 30, 0.00m, true, [Size], 3);

    public static SizeView SizeView { get; } = new(Size, "small", 1, 1024, 10, 0.01m, true, 3);

    public static OfferingView OfferingView { get; } = new(Offering, "PostgreSQL small", "A PostgreSQL database on the shared server.", DatabaseEngineKind.PostgreSql, 5, 20, 30, 0.02m, true, 3);

    public static TemplateInput TemplateInput { get; } = new("Debian 12", "Debian stable with cloud-init.", "Debian 12", "debian-12-base", 30, 0.00m, [Size]);

    public static SizeInput SizeInput { get; } = new("small", 1, 1024, 10, 0.01m);

    public static OfferingInput OfferingInput { get; } = new("PostgreSQL small", "A PostgreSQL database on the shared server.", DatabaseEngineKind.PostgreSql, 5, 20, 30, 0.02m);

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

    public static ConsoleTicket ConsoleTicket { get; } = new(
        "q8Zr3kLm0PxV7tYb2NcW5hJd9FgS4aEu1iOo6yTzR-c", At.AddMinutes(1), false, $"wss://portal.example.com/console/{Resource}",
        ["binary", "vp-ticket.q8Zr3kLm0PxV7tYb2NcW5hJd9FgS4aEu1iOo6yTzR-c"]);

    public static MetricSeries<MetricPoint> VmSeries { get; } = new(Resource, MetricRange.Hour, 300,
        [new MetricPoint(At, 12.5, 734_003_200, 1_073_741_824, 20_480, 153_600, 4_096, 2_048), new MetricPoint(At.AddMinutes(5), 31.0, 801_112_064, 1_073_741_824, 0, 409_600, 65_536, 8_192)]);

    public static MetricSeries<DatabaseSample> DatabaseSeries { get; } = new(Database, MetricRange.Day, 300,
        [new DatabaseSample(At, 52_428_800, 3), new DatabaseSample(At.AddMinutes(5), 52_690_944, 7)]);

    private static ResourceSummary DatabaseSummary { get; } = ResourceSummary with { Id = Database, Name = "orders", Kind = ResourceKind.Database, VCpus = 0, RamMiB = 0, DiskGiB = 5, HostName = null };

    public static DatabaseBackupView BackupView { get; } = new(Backup, DatabaseBackupState.Ready, At, At.AddSeconds(4), 5_242_880, null);

    public static DatabaseDetails DatabaseDetails { get; } = new(
        ResourceDetails with { Summary = DatabaseSummary, PlacementReason = "pg-1: the fewest databases (3 of 50)", Operations = [] }, DatabaseEngineKind.PostgreSql, Offering, "PostgreSQL small", "pg-1", "vp_orders",
        new DatabaseHealthView(ResourceState.Running, At.AddMinutes(5), DatabaseServerState.Online, At.AddMinutes(5), null), true, At,
        [BackupView], new DatabaseConnection("pg-1.example.com", 5432, "vp_orders", "vp_orders"));

    public static DatabaseBackupItem BackupItem { get; } = new(BackupView, $"/databases/{Database}/backups/{Backup}/file");

    public static RevealedPassword RevealedPassword { get; } = new(Database, "Tq4w-Zk9p-Hx2m-Lr7v");

    public static TenantSummary TenantSummary { get; } = new(Tenant, "Acme Research", "The research group's VMs and databases.", false, 4, TenantRole.Owner, TenantQuota.Default, 3);

    public static TenantDetails TenantDetails { get; } = new(TenantSummary,
        [new TenantMemberView(User, "mia@acme.example", "Mia Member", TenantRole.Owner, At)], CanManageMembers: true, CanAdminister: true);

    public static TenantBody TenantBody { get; } = new("Acme Research", "The research group's VMs and databases.", TenantQuota.Default);

    public static NewMemberBody NewMemberBody { get; } = new("sam@acme.example", TenantRole.Member);

    public static TenantPolicy Policy { get; } = new()
    {
        TenantId = Tenant, AutoApprove = true, AutoMaxVCpus = 4, AutoMaxRamMiB = 8192, AutoMaxDiskGiB = 100, AutoMaxLeaseDays = 14, MaxLeaseDays = 90,
        Stages = [new ApprovalStage { Mode = StageMode.AnyOf }], ApprovalTimeLimit = TimeSpan.FromDays(3),
    };

    public static UserSummary UserSummary { get; } = new(User, "mia@acme.example", "Mia Member", [], false, true, 1, At);

    public static UserDetails UserDetails { get; } = new(UserSummary, [new UserMembershipView(Tenant, "Acme Research", TenantRole.Owner, false)]);

    public static NewUser NewUser { get; } = new("sam@acme.example", "Sam Sample", [], Tenant, TenantRole.Member);

    public static InviteAnswer Invite { get; } = new("https://portal.example.com/Account/SetPassword?user=5d0c7f3e-2b1a-4c9d-8e7f-6a5b4c3d2e1f&code=Q2ZESjhB…", false);

    public static CreatedUserAnswer CreatedUser { get; } = new(UserDetails with { User = UserSummary with { Email = "sam@acme.example", DisplayName = "Sam Sample", HasPassword = false } }, Invite);

    public static HostInput HostInput { get; } = new("kvm-1", HostDriver.Libvirt, "qemu+ssh://virt@kvm-1.example.com/system", HostAcceleration.Auto, 4, 1);

    public static HostView HostView { get; } = new(Host, "kvm-1", HostDriver.Libvirt, "qemu+ssh://virt@kvm-1.example.com/system", "kvm", HostState.Online, 4, 1,
        16, 65_536, 2_000, 12, 24_576, 240, 9, At.AddMinutes(5), null, true, true, null, 4);

    public static ConnectionTest HostTest { get; } = new(new HostFacts("kvm-1", 16, 65_536, 2_000, 1_250, "libvirt 10.0.0", true, "/dev/kvm is usable"), null);

    public static DatabaseServerInput DatabaseServerInput { get; } = new("pg-1", "Host=pg-1.example.com;Username=vp_admin;Password=…", "pg-1.example.com", 5432, 50, 500);

    public static DatabaseServerView DatabaseServerView { get; } = new(Server, "pg-1", DatabaseEngineKind.PostgreSql, "pg-1.example.com:5432 as vp_admin", "pg-1.example.com", 5432,
        DatabaseServerState.Online, 50, 500, 3, 15, "PostgreSQL 16.4", At.AddMinutes(5), null, 2);

    public static DatabaseServerTest DatabaseServerTest { get; } = new("PostgreSQL 16.4", null);

    public static AuditEntryView AuditEntry { get; } = new(4711, At, User, "Mia Member", AuditActions.ResourceAction(OperationKind.Reboot), Tenant, "VM build-agent", "Reboot");

    public static DriftView DriftView { get; } = new(42, "kvm-1", Resource, Tenant, "build-agent", DriftKind.StateChanged, "Running", "Shutoff", At);

    public static ApiPage<DriftView> DriftSettled { get; } = new([], null);
}
