using System.Collections.Concurrent;
using IdentityServer.Clients;
using IdentityServer.Hosting;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Protocol.ClientAssertions;

/// <summary>
/// A client's public keys for private_key_jwt: the inline JWK Set of its settings, or the one published at its
/// jwks_uri, fetched through the safe outbound client (<see cref="OutboundHttp"/>: public addresses only, no redirects,
/// bounded time and size) and kept for <see cref="ClientAssertionOptions.JwksCacheDuration"/>. An assertion naming a kid
/// the cached set lacks fetches the set again (the client may have rotated its key), at most once per
/// <see cref="ClientAssertionOptions.JwksRefreshInterval"/>.
/// </summary>
public sealed class ClientKeySource(IHttpClientFactory httpClients, ClientAssertionOptions options, TimeProvider time, ILogger<ClientKeySource> logger)
{
    /// <summary>What one fetch gave; a failed fetch keeps the last good keys and is retried after the refresh interval.</summary>
    private sealed record Fetched(IReadOnlyList<JsonWebKey> Keys, DateTimeOffset FetchedAt, bool Failed = false);

    private readonly ConcurrentDictionary<string, Fetched> _fetched = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IReadOnlyList<JsonWebKey>> _inline = new(StringComparer.Ordinal);

    /// <summary>The client's keys; <paramref name="refresh"/> asks for a fresh copy of a jwks_uri set (an unknown kid).</summary>
    public async Task<IReadOnlyList<JsonWebKey>> GetKeysAsync(ClientDescriptor client, bool refresh, CancellationToken cancellationToken)
    {
        if (client.Settings.Jwks is { Length: > 0 } inline)
        {
            // Keyed by the text itself: an edited key set is a new entry, and a descriptor is rebuilt at most once a second.
            return _inline.GetOrAdd(inline, json => ClientKeySet.Parse(json) ?? []);
        }

        if (client.Settings.JwksUri is not { Length: > 0 } uri)
        {
            return [];
        }

        var now = time.GetUtcNow();
        if (_fetched.TryGetValue(uri, out var cached))
        {
            var age = now - cached.FetchedAt;
            var fresh = cached.Failed
                ? age < options.JwksRefreshInterval // an unreachable jwks_uri is not asked again at every assertion
                : age < options.JwksCacheDuration && (!refresh || age < options.JwksRefreshInterval);
            if (fresh)
            {
                return cached.Keys;
            }
        }

        var keys = await FetchAsync(client.ClientId, uri, cancellationToken);
        if (keys is null)
        {
            // A failed fetch keeps serving what was known, if anything (the client's server may be briefly down), and is
            // remembered: assertions naming this client, which anyone can send, must not each cost an outbound request.
            var kept = cached?.Keys ?? [];
            _fetched[uri] = new Fetched(kept, now, Failed: true);
            return kept;
        }

        _fetched[uri] = new Fetched(keys, now);
        return keys;
    }

    private async Task<IReadOnlyList<JsonWebKey>?> FetchAsync(string clientId, string uri, CancellationToken cancellationToken)
    {
        try
        {
            var http = httpClients.CreateClient(OutboundHttp.ClientName);
            using var response = await http.GetAsync(uri, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                logger.LogWarning("JWKS fetch for client {ClientId} failed: HTTP {Status}", clientId, (int)response.StatusCode);
                return null;
            }

            var json = await response.Content.ReadAsStringAsync(cancellationToken);
            if (json.Length > ClientKeySet.MaxLength || ClientKeySet.Parse(json) is not { } keys)
            {
                logger.LogWarning("JWKS fetch for client {ClientId} failed: {Reason}", clientId, "the response is not a JWK Set");
                return null;
            }

            return keys;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or InvalidOperationException)
        {
            logger.LogWarning("JWKS fetch for client {ClientId} failed: {Reason}", clientId, ex.Message);
            return null;
        }
    }
}
