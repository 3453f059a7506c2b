using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace IdentityServer.Data;

/// <summary>
/// The context's connection kept open across the few statements of one request (a token lookup and its redemption, a
/// user read and the code it goes into). EF Core opens and closes the connection around each statement; every open
/// rents from the pool and, on SQLite, registers EF Core's functions and collations on it again, about a twentieth of a
/// refresh's CPU for its two opens. EF Core counts nested opens, so the statements' own open and close inside the hold
/// are no-ops and the connection closes when the hold ends.
/// </summary>
public readonly struct HeldConnection : IAsyncDisposable
{
    private readonly DatabaseFacade _database;

    private HeldConnection(DatabaseFacade database) => _database = database;

    public static async Task<HeldConnection> OpenAsync(DatabaseFacade database, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        await database.OpenConnectionAsync(cancellationToken);
        return new HeldConnection(database);
    }

    public ValueTask DisposeAsync() => _database is null ? ValueTask.CompletedTask : new(_database.CloseConnectionAsync());
}
