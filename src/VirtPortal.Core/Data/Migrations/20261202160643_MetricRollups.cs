using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace VirtPortal.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class MetricRollups : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "MetricRollups",
                columns: table => new
                {
                    ResourceId = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Resolution = table.Column<int>(type: "INTEGER", nullable: false),
                    BucketStart = table.Column<long>(type: "INTEGER", nullable: false),
                    Samples = table.Column<int>(type: "INTEGER", nullable: false),
                    CpuPercent = table.Column<double>(type: "REAL", nullable: false),
                    MemoryUsedBytes = table.Column<long>(type: "INTEGER", nullable: false),
                    MemoryTotalBytes = table.Column<long>(type: "INTEGER", nullable: false),
                    DiskReadBytesPerSecond = table.Column<double>(type: "REAL", nullable: false),
                    DiskWriteBytesPerSecond = table.Column<double>(type: "REAL", nullable: false),
                    NetRxBytesPerSecond = table.Column<double>(type: "REAL", nullable: false),
                    NetTxBytesPerSecond = table.Column<double>(type: "REAL", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_MetricRollups", x => new { x.ResourceId, x.Resolution, x.BucketStart });
                });

            migrationBuilder.CreateIndex(
                name: "IX_MetricRollups_Resolution_BucketStart",
                table: "MetricRollups",
                columns: new[] { "Resolution", "BucketStart" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "MetricRollups");
        }
    }
}
