using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Tokens;

/// <summary>
/// One SQLite host shared by the refresh-token, introspection and revocation test classes, so the suite pays for one host
/// rather than three. Tests in a collection run one after another, so <c>server.Time.Advance</c> never surprises a
/// neighbour; every test creates its own clients and users, and asserts only relative to the clock as it finds it.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SqliteTokenServer : ICollectionFixture<SqliteServer>
{
    public const string Name = "Tokens on a shared SQLite server";
}

/// <summary>
/// The same on one database of the throwaway PostgreSQL cluster. Its test classes use [Fact], not [Fact]: without
/// PostgreSQL the cluster fails to start and so do they (with CI=true the message says so), they never skip.
/// </summary>
[CollectionDefinition(Name)]
public sealed class PostgresTokenServer : ICollectionFixture<PostgresServer>
{
    public const string Name = "Tokens on a shared PostgreSQL server";
}
