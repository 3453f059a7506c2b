using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Protocol;

/// <summary>
/// One in-process server (throwaway SQLite) shared by the protocol test classes, so the suite pays for one host.
/// Tests in a collection run one after another, which also keeps <c>server.Time.Advance</c> from surprising a
/// neighbour; every test still creates its own clients and users.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SharedProtocolServer : ICollectionFixture<SqliteServer>
{
    public const string Name = "Protocol on a shared SQLite server";
}
