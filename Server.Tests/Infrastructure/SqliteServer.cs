namespace IdentityServer.Tests.Infrastructure;

/// <summary>The shared in-process server on a throwaway SQLite database.</summary>
public sealed class SqliteServer : ServerFactory;
