using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace VirtPortal.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class ProvisioningFailures : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "FailureDetail",
                table: "Requests",
                type: "TEXT",
                maxLength: 4000,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "FailureKind",
                table: "Requests",
                type: "TEXT",
                maxLength: 16,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "FailureKind",
                table: "Operations",
                type: "TEXT",
                maxLength: 16,
                nullable: false,
                defaultValue: "");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "FailureDetail",
                table: "Requests");

            migrationBuilder.DropColumn(
                name: "FailureKind",
                table: "Requests");

            migrationBuilder.DropColumn(
                name: "FailureKind",
                table: "Operations");
        }
    }
}
