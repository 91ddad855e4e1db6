using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace VirtPortal.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class CatalogRequestsResources : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "QuotaVersion",
                table: "Tenants",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.CreateTable(
                name: "DatabaseOfferings",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false, collation: "NOCASE"),
                    Description = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    Engine = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    StorageGiB = table.Column<int>(type: "INTEGER", nullable: false),
                    ConnectionLimit = table.Column<int>(type: "INTEGER", nullable: false),
                    DefaultLeaseDays = table.Column<int>(type: "INTEGER", nullable: false),
                    HourlyPrice = table.Column<decimal>(type: "TEXT", nullable: false),
                    Enabled = table.Column<bool>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DatabaseOfferings", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "Notifications",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    UserId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    TenantId = table.Column<Guid>(type: "TEXT", nullable: true),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 24, nullable: false),
                    At = table.Column<long>(type: "INTEGER", nullable: false),
                    Text = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                    Link = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    ReadAt = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Notifications", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "Requests",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    TenantId = table.Column<Guid>(type: "TEXT", nullable: false),
                    RequesterId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    RequesterName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    State = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 63, nullable: false),
                    TemplateId = table.Column<Guid>(type: "TEXT", nullable: true),
                    SizeId = table.Column<Guid>(type: "TEXT", nullable: true),
                    OfferingId = table.Column<Guid>(type: "TEXT", nullable: true),
                    LeaseDays = table.Column<int>(type: "INTEGER", nullable: false),
                    ResourceId = table.Column<Guid>(type: "TEXT", nullable: true),
                    DemandVCpus = table.Column<int>(type: "INTEGER", nullable: false),
                    DemandRamMiB = table.Column<int>(type: "INTEGER", nullable: false),
                    DemandDiskGiB = table.Column<int>(type: "INTEGER", nullable: false),
                    DemandVms = table.Column<int>(type: "INTEGER", nullable: false),
                    DemandDatabases = table.Column<int>(type: "INTEGER", nullable: false),
                    RequestedQuotaVCpus = table.Column<int>(type: "INTEGER", nullable: true),
                    RequestedQuotaRamMiB = table.Column<int>(type: "INTEGER", nullable: true),
                    RequestedQuotaDiskGiB = table.Column<int>(type: "INTEGER", nullable: true),
                    RequestedQuotaVms = table.Column<int>(type: "INTEGER", nullable: true),
                    RequestedQuotaDatabases = table.Column<int>(type: "INTEGER", nullable: true),
                    MonthlyCost = table.Column<decimal>(type: "TEXT", nullable: false),
                    Justification = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                    CurrentStage = table.Column<int>(type: "INTEGER", nullable: false),
                    StageCount = table.Column<int>(type: "INTEGER", nullable: false),
                    SubmittedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    ApprovalDeadline = table.Column<long>(type: "INTEGER", nullable: true),
                    Escalated = table.Column<bool>(type: "INTEGER", nullable: false),
                    ClosedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Reason = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    Version = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Requests", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Requests_Tenants_TenantId",
                        column: x => x.TenantId,
                        principalTable: "Tenants",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "Resources",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    TenantId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 63, nullable: false, collation: "NOCASE"),
                    TemplateId = table.Column<Guid>(type: "TEXT", nullable: true),
                    SizeId = table.Column<Guid>(type: "TEXT", nullable: true),
                    OfferingId = table.Column<Guid>(type: "TEXT", nullable: true),
                    VCpus = table.Column<int>(type: "INTEGER", nullable: false),
                    RamMiB = table.Column<int>(type: "INTEGER", nullable: false),
                    DiskGiB = table.Column<int>(type: "INTEGER", nullable: false),
                    HourlyPrice = table.Column<decimal>(type: "TEXT", nullable: false),
                    State = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    LeaseEndsAt = table.Column<long>(type: "INTEGER", nullable: false),
                    LeaseExtensions = table.Column<int>(type: "INTEGER", nullable: false),
                    LeaseWarningSentAt = table.Column<long>(type: "INTEGER", nullable: true),
                    ExpiredAt = table.Column<long>(type: "INTEGER", nullable: true),
                    RequestId = table.Column<Guid>(type: "TEXT", nullable: true),
                    Version = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Resources", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Resources_Tenants_TenantId",
                        column: x => x.TenantId,
                        principalTable: "Tenants",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "TenantPolicies",
                columns: table => new
                {
                    TenantId = table.Column<Guid>(type: "TEXT", nullable: false),
                    AutoApprove = table.Column<bool>(type: "INTEGER", nullable: false),
                    AutoMaxVCpus = table.Column<int>(type: "INTEGER", nullable: false),
                    AutoMaxRamMiB = table.Column<int>(type: "INTEGER", nullable: false),
                    AutoMaxDiskGiB = table.Column<int>(type: "INTEGER", nullable: false),
                    AutoMaxLeaseDays = table.Column<int>(type: "INTEGER", nullable: false),
                    AutoTemplateIds = table.Column<string>(type: "TEXT", nullable: false),
                    AutoOfferingIds = table.Column<string>(type: "TEXT", nullable: false),
                    MaxLeaseDays = table.Column<int>(type: "INTEGER", nullable: false),
                    ApprovalTimeLimit = table.Column<TimeSpan>(type: "TEXT", nullable: true),
                    OnTimeout = table.Column<string>(type: "TEXT", maxLength: 24, nullable: false),
                    Stages = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_TenantPolicies", x => x.TenantId);
                    table.ForeignKey(
                        name: "FK_TenantPolicies_Tenants_TenantId",
                        column: x => x.TenantId,
                        principalTable: "Tenants",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "VmSizes",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false, collation: "NOCASE"),
                    VCpus = table.Column<int>(type: "INTEGER", nullable: false),
                    RamMiB = table.Column<int>(type: "INTEGER", nullable: false),
                    DiskGiB = table.Column<int>(type: "INTEGER", nullable: false),
                    HourlyPrice = table.Column<decimal>(type: "TEXT", nullable: false),
                    Enabled = table.Column<bool>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_VmSizes", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "VmTemplates",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false, collation: "NOCASE"),
                    Description = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    OsLabel = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    ImageRef = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    DefaultLeaseDays = table.Column<int>(type: "INTEGER", nullable: false),
                    HourlyPrice = table.Column<decimal>(type: "TEXT", nullable: false),
                    Enabled = table.Column<bool>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_VmTemplates", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "RequestApproval",
                columns: table => new
                {
                    RequestId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Stage = table.Column<int>(type: "INTEGER", nullable: false),
                    ApproverId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    At = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RequestApproval", x => new { x.RequestId, x.Stage, x.ApproverId });
                    table.ForeignKey(
                        name: "FK_RequestApproval_Requests_RequestId",
                        column: x => x.RequestId,
                        principalTable: "Requests",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "RequestEvents",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    RequestId = table.Column<Guid>(type: "TEXT", nullable: false),
                    At = table.Column<long>(type: "INTEGER", nullable: false),
                    ActorId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    ActorName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    From = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    To = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Message = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RequestEvents", x => x.Id);
                    table.ForeignKey(
                        name: "FK_RequestEvents_Requests_RequestId",
                        column: x => x.RequestId,
                        principalTable: "Requests",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "Operations",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    ResourceId = table.Column<Guid>(type: "TEXT", nullable: false),
                    TenantId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    State = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    RequestId = table.Column<Guid>(type: "TEXT", nullable: true),
                    RequestedBy = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    TargetVCpus = table.Column<int>(type: "INTEGER", nullable: true),
                    TargetRamMiB = table.Column<int>(type: "INTEGER", nullable: true),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    LeaseOwner = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    LeaseExpiresAt = table.Column<long>(type: "INTEGER", nullable: true),
                    NotBefore = table.Column<long>(type: "INTEGER", nullable: true),
                    LastError = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: true),
                    FinishedAt = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Operations", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Operations_Resources_ResourceId",
                        column: x => x.ResourceId,
                        principalTable: "Resources",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "VmTemplateSizes",
                columns: table => new
                {
                    AllowedSizesId = table.Column<Guid>(type: "TEXT", nullable: false),
                    TemplatesId = table.Column<Guid>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_VmTemplateSizes", x => new { x.AllowedSizesId, x.TemplatesId });
                    table.ForeignKey(
                        name: "FK_VmTemplateSizes_VmSizes_AllowedSizesId",
                        column: x => x.AllowedSizesId,
                        principalTable: "VmSizes",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_VmTemplateSizes_VmTemplates_TemplatesId",
                        column: x => x.TemplatesId,
                        principalTable: "VmTemplates",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_DatabaseOfferings_Name",
                table: "DatabaseOfferings",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Notifications_UserId_ReadAt",
                table: "Notifications",
                columns: new[] { "UserId", "ReadAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Operations_ResourceId",
                table: "Operations",
                column: "ResourceId");

            migrationBuilder.CreateIndex(
                name: "IX_Operations_State_NotBefore",
                table: "Operations",
                columns: new[] { "State", "NotBefore" });

            migrationBuilder.CreateIndex(
                name: "IX_RequestEvents_RequestId",
                table: "RequestEvents",
                column: "RequestId");

            migrationBuilder.CreateIndex(
                name: "IX_Requests_State",
                table: "Requests",
                column: "State");

            migrationBuilder.CreateIndex(
                name: "IX_Requests_TenantId_State",
                table: "Requests",
                columns: new[] { "TenantId", "State" });

            migrationBuilder.CreateIndex(
                name: "IX_Resources_LeaseEndsAt",
                table: "Resources",
                column: "LeaseEndsAt");

            migrationBuilder.CreateIndex(
                name: "IX_Resources_TenantId_Name",
                table: "Resources",
                columns: new[] { "TenantId", "Name" });

            migrationBuilder.CreateIndex(
                name: "IX_VmSizes_Name",
                table: "VmSizes",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_VmTemplates_Name",
                table: "VmTemplates",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_VmTemplateSizes_TemplatesId",
                table: "VmTemplateSizes",
                column: "TemplatesId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "DatabaseOfferings");

            migrationBuilder.DropTable(
                name: "Notifications");

            migrationBuilder.DropTable(
                name: "Operations");

            migrationBuilder.DropTable(
                name: "RequestApproval");

            migrationBuilder.DropTable(
                name: "RequestEvents");

            migrationBuilder.DropTable(
                name: "TenantPolicies");

            migrationBuilder.DropTable(
                name: "VmTemplateSizes");

            migrationBuilder.DropTable(
                name: "Resources");

            migrationBuilder.DropTable(
                name: "Requests");

            migrationBuilder.DropTable(
                name: "VmSizes");

            migrationBuilder.DropTable(
                name: "VmTemplates");

            migrationBuilder.DropColumn(
                name: "QuotaVersion",
                table: "Tenants");
        }
    }
}
