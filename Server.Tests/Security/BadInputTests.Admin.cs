using System.Net;
using System.Text.Json;
using static IdentityServer.Tests.Security.Hostile;

namespace IdentityServer.Tests.Security;

// The admin API (/admin/api): bearer tokens of this server only, JSON bodies only, RFC 7591-shaped errors.
public sealed partial class BadInputTests
{
    public static TheoryData<string> AdminCaseNames => Names(AdminCases);

    [Theory]
    [MemberData(nameof(AdminCaseNames))]
    public Task Admin_API_refuses(string name) => RunAsync(AdminCases[name]);

    /// <summary>RFC 6750 §3.1: 401 with a Bearer challenge; invalid_token when a token was sent.</summary>
    private static HostileCase Unauthenticated(Func<Probe, Task<HttpResponseMessage>> send, bool tokenSent = true) => new(send, async (_, response) =>
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        if (tokenSent)
        {
            await OAuthErrorAsync(response, ["invalid_token"], HttpStatusCode.Unauthorized);
        }
    });

    /// <summary>An admin request refused for its content: a JSON error (RFC 7591 §3.2.2 shape) with the expected status.</summary>
    /// <summary>A body of another media type than the endpoint accepts: 415 from routing (RFC 9110 §15.5.16), or the API's own 400.</summary>
    private static HostileCase WrongMediaType(Func<Probe, Task<HttpResponseMessage>> send) => new(send, async (probe, response) =>
    {
        if (response.StatusCode != HttpStatusCode.UnsupportedMediaType)
        {
            await AdminError(send, HttpStatusCode.BadRequest, BodyErrors).Check(probe, response);
        }
    });

    private static HostileCase AdminError(Func<Probe, Task<HttpResponseMessage>> send, HttpStatusCode status, params string[] errors) => new(send, async (_, response) =>
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {Shorten(text)}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error").GetString();
        Assert.True(errors.Contains(error), $"error '{error}': {Shorten(text)}");
    });

    private static Task<HttpResponseMessage> AsAdmin(Probe p, HttpMethod method, string path, string? body = null, string contentType = "application/json") =>
        p.SendAsync(method, path, body is null ? null : new StringContent(body, System.Text.Encoding.UTF8, contentType), Bearer(p.World.AdminAccessToken));

    private static readonly string[] BodyErrors = ["invalid_request", "invalid_client_metadata", "invalid_redirect_uri"];

    private static readonly Dictionary<string, HostileCase> AdminCases = new()
    {
        ["no token"] = Unauthenticated(p => p.GetAsync("/admin/api/clients"), tokenSent: false),
        ["a garbage bearer token"] = Unauthenticated(p => p.GetAsync("/admin/api/clients", Bearer("garbage"))),
        ["a bearer token of 60 000 characters"] = Unauthenticated(p => p.GetAsync("/admin/api/clients", Bearer(new string('A', 60_000)))),
        ["the admin token with alg none"] = Unauthenticated(p => p.GetAsync("/admin/api/clients", Bearer(Forge.AlgNone(p.World.AdminAccessToken)))),
        ["the admin token with HS256 keyed with the public key"] = Unauthenticated(p => p.GetAsync("/admin/api/clients", Bearer(Forge.Hs256WithPublicKey(p.Server, p.World.AdminAccessToken)))),
        ["the admin token signed by a foreign key"] = Unauthenticated(p => p.GetAsync("/admin/api/clients", Bearer(Forge.ForeignKeySameKid(p.World.AdminAccessToken)))),
        ["the admin token under an unknown kid"] = Unauthenticated(p => p.GetAsync("/admin/api/clients", Bearer(Forge.ForeignKeyUnknownKid(p.World.AdminAccessToken)))),
        ["a user's token with the admin scope added after signing"] = Unauthenticated(p => p.GetAsync("/admin/api/clients", Bearer(Forge.TamperedPayload(p.World.AccessToken, "scope", "openid admin")))),
        ["the admin token of another issuer"] = Unauthenticated(p => p.GetAsync("/admin/api/clients", Bearer(Forge.SignedByServer(p.Server, p.World.AdminAccessToken, payload => payload["iss"] = "https://evil.example")))),
        ["the admin token, expired"] = Unauthenticated(p => p.GetAsync("/admin/api/clients", Bearer(Forge.SignedByServer(p.Server, p.World.AdminAccessToken, payload => payload["exp"] = Forge.Now(p.Server) - 1)))),
        ["an ID token as the bearer token"] = Unauthenticated(p => p.GetAsync("/admin/api/clients", Bearer(p.World.IdToken))),
        ["Basic credentials"] = Unauthenticated(p => p.GetAsync("/admin/api/clients", Basic(p.World.Confidential)), tokenSent: false),
        ["the token in the query string"] = Unauthenticated(p => p.GetAsync("/admin/api/clients?access_token=" + Uri.EscapeDataString(p.World.AdminAccessToken)), tokenSent: false),
        ["a user's token without the admin scope"] = AdminError(p => p.GetAsync("/admin/api/clients", Bearer(p.World.AccessToken)), HttpStatusCode.Forbidden, "insufficient_scope"),
        ["a form instead of JSON"] = WrongMediaType(p => AsAdmin(p, HttpMethod.Post, "/admin/api/clients", "client_name=x&redirect_uris=https://x.example/cb", Form)),
        ["text/plain JSON"] = WrongMediaType(p => AsAdmin(p, HttpMethod.Post, "/admin/api/clients", "{\"client_name\":\"x\"}", "text/plain")),
        ["broken JSON"] = AdminError(p => AsAdmin(p, HttpMethod.Post, "/admin/api/clients", "{\"client_name\":"), HttpStatusCode.BadRequest, BodyErrors),
        ["a JSON array"] = AdminError(p => AsAdmin(p, HttpMethod.Post, "/admin/api/clients", "[1,2,3]"), HttpStatusCode.BadRequest, BodyErrors),
        ["JSON null"] = AdminError(p => AsAdmin(p, HttpMethod.Post, "/admin/api/clients", "null"), HttpStatusCode.BadRequest, BodyErrors),
        ["a string where a list belongs"] = AdminError(p => AsAdmin(p, HttpMethod.Post, "/admin/api/clients", "{\"redirect_uris\":\"https://x.example/cb\"}"), HttpStatusCode.BadRequest, BodyErrors),
        ["a number of 400 digits"] = AdminError(p => AsAdmin(p, HttpMethod.Post, "/admin/api/clients", "{\"access_token_lifetime\":" + new string('9', 400) + "}"), HttpStatusCode.BadRequest, BodyErrors),
        ["JSON nested 10 000 deep"] = AdminError(p => AsAdmin(p, HttpMethod.Post, "/admin/api/clients", "{\"client_name\":" + new string('[', 10_000) + new string(']', 10_000) + "}"), HttpStatusCode.BadRequest, BodyErrors),
        ["invalid UTF-8 in JSON"] = AdminError(p => p.SendAsync(HttpMethod.Post, "/admin/api/clients", new ByteArrayContent([(byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}'])
        {
            Headers = { { "Content-Type", "application/json" } },
        }, Bearer(p.World.AdminAccessToken)), HttpStatusCode.BadRequest, BodyErrors),
        ["a client secret chosen by the caller"] = AdminError(p => AsAdmin(p, HttpMethod.Post, "/admin/api/clients", "{\"client_name\":\"x\",\"redirect_uris\":[\"https://x.example/cb\"],\"client_secret\":\"mine\"}"), HttpStatusCode.BadRequest, BodyErrors),
        ["a javascript: redirect URI"] = AdminError(p => AsAdmin(p, HttpMethod.Post, "/admin/api/clients", "{\"client_name\":\"x\",\"redirect_uris\":[\"javascript:alert(1)\"]}"), HttpStatusCode.BadRequest, BodyErrors),
        ["a redirect URI with a fragment"] = AdminError(p => AsAdmin(p, HttpMethod.Post, "/admin/api/clients", "{\"client_name\":\"x\",\"redirect_uris\":[\"https://x.example/cb#f\"]}"), HttpStatusCode.BadRequest, BodyErrors),
        ["a client name of 100 000 characters"] = AdminError(p => AsAdmin(p, HttpMethod.Post, "/admin/api/clients", "{\"client_name\":\"" + Huge + "\",\"redirect_uris\":[\"https://x.example/cb\"]}"), HttpStatusCode.BadRequest, BodyErrors),
        ["a client_id with script"] = AdminError(p => AsAdmin(p, HttpMethod.Post, "/admin/api/clients", "{\"client_id\":\"<script>\",\"redirect_uris\":[\"https://x.example/cb\"]}"), HttpStatusCode.BadRequest, BodyErrors),
        ["an unknown scope"] = AdminError(p => AsAdmin(p, HttpMethod.Post, "/admin/api/clients", "{\"client_name\":\"x\",\"redirect_uris\":[\"https://x.example/cb\"],\"scopes\":[\"root\"]}"), HttpStatusCode.BadRequest, BodyErrors),
        ["a client that does not exist"] = AdminError(p => AsAdmin(p, HttpMethod.Get, "/admin/api/clients/no-such-client"), HttpStatusCode.NotFound, "not_found"),
        ["script as the client id in the path"] = AdminError(p => AsAdmin(p, HttpMethod.Get, "/admin/api/clients/" + Uri.EscapeDataString(Script)), HttpStatusCode.NotFound, "not_found"),
        ["an encoded path traversal as the client id"] = AdminError(p => AsAdmin(p, HttpMethod.Get, "/admin/api/clients/..%2F..%2Fscopes"), HttpStatusCode.NotFound, "not_found"),
        ["deleting a client that does not exist"] = AdminError(p => AsAdmin(p, HttpMethod.Delete, "/admin/api/clients/no-such-client"), HttpStatusCode.NotFound, "not_found"),
        ["revoking another client's grant"] = AdminError(p => AsAdmin(p, HttpMethod.Delete, $"/admin/api/clients/{p.World.Public.ClientId}/grants/no-such-grant"), HttpStatusCode.NotFound, "not_found"),
        ["a scope body that is a form"] = WrongMediaType(p => AsAdmin(p, HttpMethod.Post, "/admin/api/scopes", "name=x", Form)),
        ["a scope name with a space and a quote (RFC 6749 §3.3)"] = AdminError(p => AsAdmin(p, HttpMethod.Post, "/admin/api/scopes", "{\"name\":\"a \\\"b\"}"), HttpStatusCode.BadRequest, BodyErrors),
        ["a scope redefining openid"] = AdminError(p => AsAdmin(p, HttpMethod.Post, "/admin/api/scopes", "{\"name\":\"openid\"}"), HttpStatusCode.BadRequest, BodyErrors),
        ["a registration token living -5 seconds"] = AdminError(p => AsAdmin(p, HttpMethod.Post, "/admin/api/registration-tokens", "{\"expires_in\":-5}"), HttpStatusCode.BadRequest, BodyErrors),
        ["an audit query from a date that is not one"] = AdminError(p => AsAdmin(p, HttpMethod.Get, "/admin/api/audit?from=yesterday"), HttpStatusCode.BadRequest, "invalid_request"),
        ["an audit page of a million entries"] = AdminError(p => AsAdmin(p, HttpMethod.Get, "/admin/api/audit?limit=1000000"), HttpStatusCode.BadRequest, "invalid_request"),
        ["a negative audit offset"] = AdminError(p => AsAdmin(p, HttpMethod.Get, "/admin/api/audit?offset=-1"), HttpStatusCode.BadRequest, "invalid_request"),
        ["an audit limit that is not a number"] = AdminError(p => AsAdmin(p, HttpMethod.Get, "/admin/api/audit?limit=%27%20OR%201%3D1"), HttpStatusCode.BadRequest, "invalid_request"),
    };
}
