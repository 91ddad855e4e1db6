using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace VirtPortal.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class ResourceDeletedAt : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "DeletedAt",
                table: "Resources",
                type: "INTEGER",
                nullable: true);

            // Resources deleted before this column: their delete operation's end (Kind 8 = Delete, State 2 =
            // Succeeded), else (gone from the host, accepted as drift) when the host last reported them.
            migrationBuilder.Sql(
                """
                UPDATE "Resources" SET "DeletedAt" = COALESCE(
                    (SELECT MAX(o."FinishedAt") FROM "Operations" o WHERE o."ResourceId" = "Resources"."Id" AND o."Kind" = 8 AND o."State" = 2),
                    "ObservedAt")
                WHERE "State" = 7;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "DeletedAt",
                table: "Resources");
        }
    }
}
