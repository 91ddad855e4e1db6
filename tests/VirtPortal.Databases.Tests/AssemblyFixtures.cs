// One PostgreSQL server for the whole run; PostgresServer.cs is also linked into the web tests, which start it per class.
[assembly: AssemblyFixture(typeof(VirtPortal.Databases.Tests.PostgresServer))]
