using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace VirtPortal.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class DatabaseDrift : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_Drifts_Hosts_HostId",
                table: "Drifts");

            migrationBuilder.AlterColumn<Guid>(
                name: "HostId",
                table: "Drifts",
                type: "TEXT",
                nullable: true,
                oldClrType: typeof(Guid),
                oldType: "TEXT");

            migrationBuilder.AddColumn<Guid>(
                name: "DatabaseServerId",
                table: "Drifts",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_Drifts_DatabaseServerId_ResolvedAt",
                table: "Drifts",
                columns: new[] { "DatabaseServerId", "ResolvedAt" });

            migrationBuilder.AddForeignKey(
                name: "FK_Drifts_DatabaseServers_DatabaseServerId",
                table: "Drifts",
                column: "DatabaseServerId",
                principalTable: "DatabaseServers",
                principalColumn: "Id");

            migrationBuilder.AddForeignKey(
                name: "FK_Drifts_Hosts_HostId",
                table: "Drifts",
                column: "HostId",
                principalTable: "Hosts",
                principalColumn: "Id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_Drifts_DatabaseServers_DatabaseServerId",
                table: "Drifts");

            migrationBuilder.DropForeignKey(
                name: "FK_Drifts_Hosts_HostId",
                table: "Drifts");

            migrationBuilder.DropIndex(
                name: "IX_Drifts_DatabaseServerId_ResolvedAt",
                table: "Drifts");

            migrationBuilder.DropColumn(
                name: "DatabaseServerId",
                table: "Drifts");

            migrationBuilder.AlterColumn<Guid>(
                name: "HostId",
                table: "Drifts",
                type: "TEXT",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000000"),
                oldClrType: typeof(Guid),
                oldType: "TEXT",
                oldNullable: true);

            migrationBuilder.AddForeignKey(
                name: "FK_Drifts_Hosts_HostId",
                table: "Drifts",
                column: "HostId",
                principalTable: "Hosts",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);
        }
    }
}
