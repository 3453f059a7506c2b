using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Tokens;

/// <summary>
/// The <c>act</c> claim of RFC 8693 §4.1: who acts for the token's subject. The outermost actor is the current one;
/// <see cref="Prior"/> holds the actors before it, nested the same way (the least recent the most deeply nested). Only
/// identity claims go in (§4.1: not exp, aud and the like): the actor's <c>sub</c>, and its <c>client_id</c> when that
/// says more than the subject does.
/// </summary>
public sealed record ActorClaim(string Subject, string? ClientId, ActorClaim? Prior)
{
    public const string Name = "act";

    /// <summary>How deep a chain may be: a longer one is refused rather than written into ever larger tokens.</summary>
    public const int MaxDepth = 5;

    public int Depth => 1 + (Prior?.Depth ?? 0);

    public void WriteTo(Utf8JsonWriter json)
    {
        ArgumentNullException.ThrowIfNull(json);
        json.WriteStartObject(Name);
        json.WriteString("sub", Subject);
        if (ClientId is not null && ClientId != Subject)
        {
            json.WriteString("client_id", ClientId);
        }

        Prior?.WriteTo(json);
        json.WriteEndObject();
    }

    /// <summary>The act claim of a token whose signature has been checked, or null when it has none (or one we did not write).</summary>
    public static ActorClaim? Read(JsonWebToken token)
    {
        ArgumentNullException.ThrowIfNull(token);
        using var payload = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(token.EncodedPayload));
        return payload.RootElement.TryGetProperty(Name, out var act) ? Read(act, depth: 1) : null;
    }

    private static ActorClaim? Read(JsonElement act, int depth)
    {
        if (depth > MaxDepth || act.ValueKind != JsonValueKind.Object
            || !act.TryGetProperty("sub", out var sub) || sub.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        var clientId = act.TryGetProperty("client_id", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        var prior = act.TryGetProperty(Name, out var nested) ? Read(nested, depth + 1) : null;
        return new ActorClaim(sub.GetString()!, clientId, prior);
    }
}
