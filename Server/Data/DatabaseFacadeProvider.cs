using Microsoft.EntityFrameworkCore.Infrastructure;

namespace IdentityServer.Data;

/// <summary>Which provider a context runs on, asked on every token request and every signed-in request.</summary>
public static class DatabaseFacadeProvider
{
    /// <summary>The provider's assembly name, which is what EF Core reports as <see cref="DatabaseFacade.ProviderName"/>.</summary>
    internal const string PostgresProviderName = "Npgsql.EntityFrameworkCore.PostgreSQL";

    /// <summary>What EF Core reports as <see cref="DatabaseFacade.ProviderName"/> for SQL Server.</summary>
    internal const string SqlServerProviderName = "Microsoft.EntityFrameworkCore.SqlServer";

    /// <summary>
    /// Whether the context runs on PostgreSQL. Npgsql's own <c>IsNpgsql()</c> answers the same, but builds the provider
    /// assembly's name anew (<c>Assembly.GetName()</c>) on every call: about 1 % of a code flow's CPU.
    /// </summary>
    public static bool IsPostgres(this DatabaseFacade database) =>
        string.Equals(database.ProviderName, PostgresProviderName, StringComparison.Ordinal);

    /// <summary>
    /// Whether the context runs on SQL Server; compared by name like <see cref="IsPostgres"/>, for the same reason (EF's
    /// own <c>IsSqlServer()</c> builds the name too). Named apart from it so the two never meet in one file.
    /// </summary>
    public static bool IsMsSqlServer(this DatabaseFacade database) =>
        string.Equals(database.ProviderName, SqlServerProviderName, StringComparison.Ordinal);
}
