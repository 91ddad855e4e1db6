using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace VirtPortal.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class HostAcceleration : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "AccelerationReason",
                table: "Hosts",
                type: "TEXT",
                maxLength: 500,
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "DomainTypeFromCapabilities",
                table: "Hosts",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<bool>(
                name: "KvmAvailable",
                table: "Hosts",
                type: "INTEGER",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "AccelerationReason",
                table: "Hosts");

            migrationBuilder.DropColumn(
                name: "DomainTypeFromCapabilities",
                table: "Hosts");

            migrationBuilder.DropColumn(
                name: "KvmAvailable",
                table: "Hosts");
        }
    }
}
