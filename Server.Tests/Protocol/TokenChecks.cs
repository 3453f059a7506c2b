using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using IdentityServer.Tests.Foundation;
using IdentityServer.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Tests.Protocol;

/// <summary>
/// Checks tokens as a relying party and a resource server would: keys and issuer come from discovery + JWKS through
/// Microsoft.IdentityModel (an independent client of our metadata), expiry is judged on the server's fake clock.
/// </summary>
internal sealed class TokenChecks(ServerFactory server)
{
    private OpenIdConnectConfiguration? _configuration;

    public async Task<OpenIdConnectConfiguration> ConfigurationAsync()
    {
        if (_configuration is null)
        {
            using var http = server.CreateClient();
            _configuration = await DiscoveryClient.For(http).GetConfigurationAsync(CancellationToken.None);
        }

        return _configuration;
    }

    /// <summary>Validates an RFC 9068 access token for <paramref name="audience"/> and checks its required claims (§2.2).</summary>
    public async Task<JsonWebToken> AccessTokenAsync(string token, string audience, string expectedClientId, string expectedSubject)
    {
        var jwt = await ValidateAsync(token, audience, [AccessTokenType]);
        Assert.Equal(AccessTokenType, jwt.Typ);
        foreach (var claim in new[] { "iss", "sub", "aud", "client_id", "iat", "exp", "jti" })
        {
            Assert.True(jwt.TryGetPayloadValue<object>(claim, out _), $"The access token lacks {claim}.");
        }

        Assert.Equal(expectedClientId, jwt.GetClaim("client_id").Value);
        Assert.Equal(expectedSubject, jwt.Subject);
        Assert.False(string.IsNullOrEmpty(jwt.Id));
        return jwt;
    }

    /// <summary>Validates an ID token (OpenID Connect Core §3.1.3.7): signature, iss, aud, exp, nonce and at_hash (§3.1.3.8).</summary>
    public async Task<JsonWebToken> IdentityTokenAsync(string idToken, string clientId, string? nonce, string accessToken, string expectedSubject)
    {
        var jwt = await ValidateAsync(idToken, clientId, validTypes: null);
        Assert.NotEqual(AccessTokenType, jwt.Typ);
        Assert.Equal([clientId], jwt.Audiences);
        Assert.Equal(expectedSubject, jwt.Subject);
        Assert.True(jwt.TryGetPayloadValue<long>("iat", out _));
        Assert.True(jwt.TryGetPayloadValue<long>("auth_time", out _));
        Assert.False(string.IsNullOrEmpty(jwt.GetClaim("sid").Value));
        if (nonce is null)
        {
            Assert.False(jwt.TryGetPayloadValue<string>("nonce", out _));
        }
        else
        {
            Assert.Equal(nonce, jwt.GetClaim("nonce").Value);
        }

        Assert.Equal(AtHash(accessToken, jwt.Alg), jwt.GetClaim("at_hash").Value);
        return jwt;
    }

    /// <summary>Validation result without asserting success, for negative checks.</summary>
    public async Task<TokenValidationResult> TryValidateAsync(string token, string audience, IEnumerable<string>? validTypes)
    {
        var configuration = await ConfigurationAsync();
        Assert.Equal(ServerFactory.Issuer, configuration.Issuer);
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = configuration.Issuer,
            ValidAudience = audience,
            IssuerSigningKeys = configuration.SigningKeys,
            ValidAlgorithms = configuration.IdTokenSigningAlgValuesSupported,
            ValidTypes = validTypes,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            // Expiry is judged on the server's fake clock, which tests move forward instead of sleeping.
            LifetimeValidator = (notBefore, expires, _, _) =>
                expires is { } exp && exp > server.Time.GetUtcNow().UtcDateTime && (notBefore is null || notBefore <= server.Time.GetUtcNow().UtcDateTime),
        };
        return await new JsonWebTokenHandler { MapInboundClaims = false }.ValidateTokenAsync(token, parameters);
    }

    private async Task<JsonWebToken> ValidateAsync(string token, string audience, IEnumerable<string>? validTypes)
    {
        var result = await TryValidateAsync(token, audience, validTypes);
        Assert.True(result.IsValid, result.Exception?.Message);
        return (JsonWebToken)result.SecurityToken;
    }

    public const string AccessTokenType = "at+jwt";
    private static readonly string[] ErrorMembers = ["error", "error_description", "error_uri"];

    /// <summary>OpenID Connect Core §3.1.3.6: the left half of the hash of the ASCII access token, with the hash of the JWS alg.</summary>
    public static string AtHash(string accessToken, string algorithm)
    {
        var bytes = Encoding.ASCII.GetBytes(accessToken);
        var hash = algorithm[^3..] switch
        {
            "384" => SHA384.HashData(bytes),
            "512" => SHA512.HashData(bytes),
            _ => SHA256.HashData(bytes),
        };
        return Base64UrlEncoder.Encode(hash[..(hash.Length / 2)]);
    }

    /// <summary>POSTs a form to a protocol endpoint, authenticating as <paramref name="client"/> with Basic when it has a secret.</summary>
    public static async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> PostAsync(
        HttpClient http, string path, TestClient client, Dictionary<string, string> form)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        var fields = new Dictionary<string, string>(form);
        if (client.Secret is null)
        {
            fields.TryAdd("client_id", client.ClientId);
        }
        else
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.EscapeDataString(client.ClientId) + ":" + Uri.EscapeDataString(client.Secret))));
        }

        request.Content = new FormUrlEncodedContent(fields);
        var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone(), response);
    }

    /// <summary>RFC 7662 introspection by a resource server: is the token active right now?</summary>
    public static async Task<bool> IsActiveAsync(HttpClient http, TestClient resourceServer, string token)
    {
        var (status, body, _) = await PostAsync(http, "/connect/introspect", resourceServer, new() { ["token"] = token });
        Assert.Equal(HttpStatusCode.OK, status);
        return body.GetProperty("active").GetBoolean();
    }

    /// <summary>
    /// An RFC 6749 §5.2 error: the status, a JSON object with a string <c>error</c> of the expected code, an optional
    /// string <c>error_description</c> in the allowed characters, nothing else unexpected, and never cached (§5.1).
    /// </summary>
    public static void AssertTokenError((HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response) result, string error,
        HttpStatusCode status = HttpStatusCode.BadRequest)
    {
        Assert.Equal(status, result.Status);
        Assert.Equal("application/json", result.Response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-store", result.Response.Headers.CacheControl?.ToString());
        Assert.Equal(JsonValueKind.Object, result.Body.ValueKind);
        Assert.Equal(error, result.Body.GetProperty("error").GetString());
        foreach (var property in result.Body.EnumerateObject())
        {
            Assert.Contains(property.Name, ErrorMembers);
            Assert.Equal(JsonValueKind.String, property.Value.ValueKind);
        }

        if (result.Body.TryGetProperty("error_description", out var description))
        {
            // §5.2: %x20-21 / %x23-5B / %x5D-7E (printable ASCII without '"' and '\').
            Assert.All(description.GetString()!, c => Assert.True(c is >= ' ' and <= '~' and not '"' and not '\\', $"'{c}' is not allowed"));
        }

        Assert.False(result.Body.TryGetProperty("access_token", out _));
    }
}
