namespace IdentityServer.Data;

public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary><c>Sqlite</c> (default, embedded file), <c>PostgreSQL</c> or <c>SqlServer</c>.</summary>
    public string Provider { get; set; } = DatabaseProviders.Sqlite;

    /// <summary>Required for PostgreSQL and SQL Server; for SQLite it overrides the file under <see cref="DataDirectory"/>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Folder of the SQLite file (relative to the working directory), created on start.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Apply pending migrations when the server starts.</summary>
    public bool MigrateOnStart { get; set; } = true;

    /// <summary>
    /// Listen while the database is migrated and seeded (requests that need it wait; discovery, JWKS and health answer at
    /// once; /health/ready says not ready until it is done). False: listen only once it is done.
    /// </summary>
    public bool StartInBackground { get; set; } = true;
}

public static class DatabaseProviders
{
    public const string Sqlite = "Sqlite";
    public const string PostgreSql = "PostgreSQL";
    public const string SqlServer = "SqlServer";
}
