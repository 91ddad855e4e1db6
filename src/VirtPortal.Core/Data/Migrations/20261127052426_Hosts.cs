using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace VirtPortal.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class Hosts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "HostId",
                table: "Resources",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "PlacementReason",
                table: "Resources",
                type: "TEXT",
                maxLength: 1000,
                nullable: false,
                defaultValue: "");

            migrationBuilder.CreateTable(
                name: "Hosts",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false, collation: "NOCASE"),
                    Driver = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Uri = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    DomainType = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    State = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    CpuOvercommit = table.Column<double>(type: "REAL", nullable: false),
                    RamOvercommit = table.Column<double>(type: "REAL", nullable: false),
                    Cpus = table.Column<int>(type: "INTEGER", nullable: false),
                    MemoryMiB = table.Column<long>(type: "INTEGER", nullable: false),
                    StorageGiB = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    LastSeenAt = table.Column<long>(type: "INTEGER", nullable: true),
                    LastError = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Hosts", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Resources_HostId",
                table: "Resources",
                column: "HostId");

            migrationBuilder.CreateIndex(
                name: "IX_Hosts_Name",
                table: "Hosts",
                column: "Name",
                unique: true);

            migrationBuilder.AddForeignKey(
                name: "FK_Resources_Hosts_HostId",
                table: "Resources",
                column: "HostId",
                principalTable: "Hosts",
                principalColumn: "Id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_Resources_Hosts_HostId",
                table: "Resources");

            migrationBuilder.DropTable(
                name: "Hosts");

            migrationBuilder.DropIndex(
                name: "IX_Resources_HostId",
                table: "Resources");

            migrationBuilder.DropColumn(
                name: "HostId",
                table: "Resources");

            migrationBuilder.DropColumn(
                name: "PlacementReason",
                table: "Resources");
        }
    }
}
