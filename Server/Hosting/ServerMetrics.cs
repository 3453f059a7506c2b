using System.Diagnostics.Metrics;

namespace IdentityServer.Hosting;

/// <summary>
/// The server's own metrics (meter <c>IdentityServer</c>), beside the framework's HTTP, runtime and database ones. Every
/// tag takes its values from a small set (grant types, registered client ids, sign-in methods and results), never from
/// free text a caller sends. Counting costs next to nothing while no exporter listens (<see cref="TelemetrySetup"/>).
/// </summary>
public sealed class ServerMetrics
{
    public const string MeterName = "IdentityServer";

    private readonly Counter<long> _tokensIssued;
    private readonly Counter<long> _reuseDetected;
    private readonly Counter<long> _signIns;
    private readonly Counter<long> _introspections;
    private readonly Counter<long> _pruneRuns;
    private readonly Counter<long> _prunedRows;
    private readonly Counter<long> _revocationCacheLookups;

    public ServerMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);
        _tokensIssued = meter.CreateCounter<long>("identityserver.tokens.issued", "{response}",
            "Successful token endpoint responses, by grant type and client.");
        _reuseDetected = meter.CreateCounter<long>("identityserver.token_reuse.detected", "{event}",
            "A redeemed authorization code or refresh token presented again: its family was revoked.");
        _signIns = meter.CreateCounter<long>("identityserver.sign_ins", "{attempt}",
            "Sign-in attempts, by method (password or the provider) and result.");
        _introspections = meter.CreateCounter<long>("identityserver.introspections", "{request}",
            "Introspection requests answered (RFC 7662), by token type and whether the token was active.");
        _pruneRuns = meter.CreateCounter<long>("identityserver.prune.runs", "{run}",
            "Runs of the pruning job, by result.");
        _prunedRows = meter.CreateCounter<long>("identityserver.prune.deleted", "{row}",
            "Rows deleted by the pruning job, by step.");
        _revocationCacheLookups = meter.CreateCounter<long>("identityserver.revocation_cache.lookups", "{lookup}",
            "Access-token liveness checks by how the revocation cache answered: hit, miss (read from the database and kept), "
            + "or bypass (the cache is off or not subscribed to revocations, so the database answered).");
    }

    public void TokenIssued(string grantType, string clientId) =>
        _tokensIssued.Add(1, new("grant_type", grantType), new("client_id", clientId));

    /// <param name="tokenType"><c>authorization_code</c> or <c>refresh_token</c>.</param>
    public void ReuseDetected(string tokenType, string clientId) =>
        _reuseDetected.Add(1, new("token_type", tokenType), new("client_id", clientId));

    /// <param name="method"><c>password</c>, or the provider's scheme name in lower case.</param>
    /// <param name="reason">Why it failed, from a fixed set of words; null on success.</param>
    public void SignIn(string method, bool succeeded, string? reason = null) =>
        _signIns.Add(1, new("method", method), new("result", succeeded ? "success" : "failure"), new("reason", reason ?? "none"));

    public void Introspected(string tokenType, bool active) =>
        _introspections.Add(1, new("token_type", tokenType), new("active", active));

    /// <param name="result"><c>hit</c>, <c>miss</c> or <c>bypass</c>.</param>
    public void RevocationCacheLookup(string result) => _revocationCacheLookups.Add(1, new KeyValuePair<string, object?>("result", result));

    public void Pruned(string step, int deleted) => _prunedRows.Add(deleted, new KeyValuePair<string, object?>("step", step));

    public void PruneRun(bool succeeded) => _pruneRuns.Add(1, new KeyValuePair<string, object?>("result", succeeded ? "success" : "failure"));
}
