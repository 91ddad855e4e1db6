using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace VirtPortal.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class Databases : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "DatabaseName",
                table: "Resources",
                type: "TEXT",
                maxLength: 63,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "DatabaseServerId",
                table: "Resources",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "RestoreFromBackupId",
                table: "Resources",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "RestoreFromBackupId",
                table: "Requests",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "BackupId",
                table: "Operations",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "DatabaseBackups",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    ResourceId = table.Column<Guid>(type: "TEXT", nullable: false),
                    TenantId = table.Column<Guid>(type: "TEXT", nullable: false),
                    State = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    FinishedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    SizeBytes = table.Column<long>(type: "INTEGER", nullable: false),
                    Engine = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    RequestedBy = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Error = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DatabaseBackups", x => x.Id);
                    table.ForeignKey(
                        name: "FK_DatabaseBackups_Resources_ResourceId",
                        column: x => x.ResourceId,
                        principalTable: "Resources",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "DatabaseCredentials",
                columns: table => new
                {
                    ResourceId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ProtectedPassword = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: false),
                    IssuedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DatabaseCredentials", x => x.ResourceId);
                    table.ForeignKey(
                        name: "FK_DatabaseCredentials_Resources_ResourceId",
                        column: x => x.ResourceId,
                        principalTable: "Resources",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "DatabaseServers",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false, collation: "NOCASE"),
                    Engine = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    ProtectedAdminConnection = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: true),
                    Endpoint = table.Column<string>(type: "TEXT", maxLength: 300, nullable: false),
                    ClientHost = table.Column<string>(type: "TEXT", maxLength: 255, nullable: true),
                    ClientPort = table.Column<int>(type: "INTEGER", nullable: true),
                    State = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    MaxDatabases = table.Column<int>(type: "INTEGER", nullable: false),
                    StorageGiB = table.Column<int>(type: "INTEGER", nullable: false),
                    Version = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    LastSeenAt = table.Column<long>(type: "INTEGER", nullable: true),
                    LastError = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DatabaseServers", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Resources_DatabaseServerId",
                table: "Resources",
                column: "DatabaseServerId");

            migrationBuilder.CreateIndex(
                name: "IX_DatabaseBackups_ResourceId_CreatedAt",
                table: "DatabaseBackups",
                columns: new[] { "ResourceId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_DatabaseBackups_TenantId_State",
                table: "DatabaseBackups",
                columns: new[] { "TenantId", "State" });

            migrationBuilder.CreateIndex(
                name: "IX_DatabaseServers_Name",
                table: "DatabaseServers",
                column: "Name",
                unique: true);

            migrationBuilder.AddForeignKey(
                name: "FK_Resources_DatabaseServers_DatabaseServerId",
                table: "Resources",
                column: "DatabaseServerId",
                principalTable: "DatabaseServers",
                principalColumn: "Id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_Resources_DatabaseServers_DatabaseServerId",
                table: "Resources");

            migrationBuilder.DropTable(
                name: "DatabaseBackups");

            migrationBuilder.DropTable(
                name: "DatabaseCredentials");

            migrationBuilder.DropTable(
                name: "DatabaseServers");

            migrationBuilder.DropIndex(
                name: "IX_Resources_DatabaseServerId",
                table: "Resources");

            migrationBuilder.DropColumn(
                name: "DatabaseName",
                table: "Resources");

            migrationBuilder.DropColumn(
                name: "DatabaseServerId",
                table: "Resources");

            migrationBuilder.DropColumn(
                name: "RestoreFromBackupId",
                table: "Resources");

            migrationBuilder.DropColumn(
                name: "RestoreFromBackupId",
                table: "Requests");

            migrationBuilder.DropColumn(
                name: "BackupId",
                table: "Operations");
        }
    }
}
