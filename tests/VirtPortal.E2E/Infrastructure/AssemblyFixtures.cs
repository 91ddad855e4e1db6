// One private PostgreSQL server for the whole run, for the journeys that make databases on it.
[assembly: AssemblyFixture(typeof(VirtPortal.Databases.Tests.PostgresServer))]
