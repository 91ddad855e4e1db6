using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace VirtPortal.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class DatabaseFigures : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "DatabaseFigureRollups",
                columns: table => new
                {
                    ResourceId = table.Column<byte[]>(type: "BLOB", nullable: false),
                    BucketStart = table.Column<long>(type: "INTEGER", nullable: false),
                    Samples = table.Column<int>(type: "INTEGER", nullable: false),
                    SizeBytes = table.Column<long>(type: "INTEGER", nullable: false),
                    PeakConnections = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DatabaseFigureRollups", x => new { x.ResourceId, x.BucketStart });
                });

            migrationBuilder.CreateIndex(
                name: "IX_DatabaseFigureRollups_BucketStart",
                table: "DatabaseFigureRollups",
                column: "BucketStart");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "DatabaseFigureRollups");
        }
    }
}
