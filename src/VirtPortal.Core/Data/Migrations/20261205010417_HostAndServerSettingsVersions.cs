using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace VirtPortal.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class HostAndServerSettingsVersions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "SettingsVersion",
                table: "Hosts",
                type: "INTEGER",
                nullable: false,
                defaultValue: 1L);

            migrationBuilder.AddColumn<long>(
                name: "SettingsVersion",
                table: "DatabaseServers",
                type: "INTEGER",
                nullable: false,
                defaultValue: 1L);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "SettingsVersion",
                table: "Hosts");

            migrationBuilder.DropColumn(
                name: "SettingsVersion",
                table: "DatabaseServers");
        }
    }
}
