using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Admin;

/// <summary>
/// One in-process server (throwaway SQLite) shared by the admin test classes. Tests in a collection run one after
/// another, so moving <c>server.Time</c> cannot surprise a neighbour; every test creates its own clients and users.
/// </summary>
[CollectionDefinition(Name)]
public sealed class AdminServer : ICollectionFixture<SqliteServer>
{
    public const string Name = "Admin on a shared SQLite server";
}
