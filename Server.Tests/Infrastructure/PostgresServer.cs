namespace IdentityServer.Tests.Infrastructure;

/// <summary>
/// The in-process server on a fresh database of the shared throwaway PostgreSQL cluster. The database is created when
/// the host is first built (first request or first use of <c>Services</c>), so merely constructing the fixture costs nothing.
/// </summary>
public sealed class PostgresServer : ServerFactory
{
    private readonly Lazy<string> _connectionString =
        new(() => PostgresCluster.Shared.CreateDatabaseAsync().GetAwaiter().GetResult(), LazyThreadSafetyMode.ExecutionAndPublication);

    public string ConnectionString => _connectionString.Value;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Database:Provider"] = "PostgreSQL",
        ["Database:ConnectionString"] = ConnectionString,
    };
}
