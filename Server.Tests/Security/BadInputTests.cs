using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;
using static IdentityServer.Tests.Security.Hostile;

namespace IdentityServer.Tests.Security;

/// <summary>
/// Every endpoint against hostile input: oversized and repeated parameters, wrong content types, broken encodings,
/// JSON where a form belongs, injection strings, forged and tampered tokens. Each case must be refused without a 5xx,
/// in the shape its specification gives errors (OAuth error JSON, or a page for a person), without a redirect to a URI
/// nobody registered, and without writing anything to the database (a failed sign-in's audit entry excepted).
/// </summary>
[Collection(SharedSecurityServer.Name)]
public sealed partial class BadInputTests(SecurityServer server)
{
    private static readonly string[] ClientErrors = ["invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type", "invalid_scope", "invalid_target"];

    private async Task RunAsync(HostileCase hostile)
    {
        var world = await server.WorldAsync();
        using var http = CreateClient(server);
        var probe = new Probe(server, world, http);
        await probe.ReadyAsync();
        var auditBefore = await server.WithDatabaseAsync(db => db.AuditEntries.CountAsync());

        using var response = await hostile.Send(probe);

        Assert.True((int)response.StatusCode < 500, $"{(int)response.StatusCode}: {Shorten(await response.Content.ReadAsStringAsync())}");
        NoForeignRedirect(response, world);
        await hostile.Check(probe, response);
        var after = await DatabaseSnapshot.TakeAsync(server);
        if (hostile.FailedSignInMayBeAudited)
        {
            // The one write a refused sign-in makes: its audit entry, a failure.
            var added = await server.WithDatabaseAsync(db => db.AuditEntries.OrderByDescending(e => e.Timestamp).Take(10).ToListAsync());
            var newOnes = await server.WithDatabaseAsync(db => db.AuditEntries.CountAsync()) - auditBefore;
            Assert.All(added.Take(newOnes), e => Assert.Equal((AuditKinds.SignIn, AuditOutcomes.Failure), (e.Kind, e.Outcome)));
            Assert.Equal(WithoutAudit(probe.Before!), WithoutAudit(after));
        }
        else
        {
            Assert.Equal(probe.Before, after);
        }
    }

    private static string WithoutAudit(string snapshot) => snapshot[..snapshot.IndexOf(", audit", StringComparison.Ordinal)];

    public static TheoryData<string> Names(IReadOnlyDictionary<string, HostileCase> cases) => [.. cases.Keys];

    // ------------------------------------------------------------------------------------------------------------
    // Token endpoint (RFC 6749 §3.2, §4.1.3, §5.2)
    // ------------------------------------------------------------------------------------------------------------

    public static TheoryData<string> TokenCaseNames => Names(TokenCases);

    [Theory]
    [MemberData(nameof(TokenCaseNames))]
    public Task Token_endpoint_refuses(string name) => RunAsync(TokenCases[name]);

    private static HostileCase TokenError(Func<Probe, Task<HttpResponseMessage>> send, params string[] errors) =>
        new(send, async (_, response) => await OAuthErrorAsync(response, errors.Length == 0 ? ClientErrors : errors, HttpStatusCode.BadRequest, HttpStatusCode.Unauthorized));

    private static Task<HttpResponseMessage> Token(Probe p, string body, string? contentType = Form, bool basic = true, Action<HttpRequestMessage>? configure = null) =>
        p.PostAsync("/connect/token", body, contentType, request =>
        {
            if (basic)
            {
                Basic(p.World.Confidential)(request);
            }

            configure?.Invoke(request);
        });

    private static readonly Dictionary<string, HostileCase> TokenCases = new()
    {
        ["no body and no content type"] = TokenError(p => p.PostAsync("/connect/token", null, null, Basic(p.World.Confidential)), "invalid_request"),
        ["JSON instead of a form"] = TokenError(p => Token(p, "{\"grant_type\":\"client_credentials\"}", "application/json"), "invalid_request"),
        ["a form labelled text/plain"] = TokenError(p => Token(p, "grant_type=client_credentials", "text/plain"), "invalid_request"),
        ["multipart instead of urlencoded"] = TokenError(p => Token(p, "--b\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n--b--\r\n", "multipart/form-data; boundary=b"), "invalid_request"),
        ["XML body"] = TokenError(p => Token(p, "<grant_type>client_credentials</grant_type>", "application/xml"), "invalid_request"),
        ["a body of 5 MB"] = TokenError(p => Token(p, "grant_type=client_credentials&junk=" + new string('x', 5_000_000)), "invalid_request"),
        ["2000 parameters"] = TokenError(p => Token(p, "grant_type=client_credentials&" + string.Join('&', Enumerable.Range(0, 2000).Select(i => $"p{i}=v"))), "invalid_request"),
        ["a parameter name of 3000 characters"] = TokenError(p => Token(p, "grant_type=client_credentials&" + new string('n', 3000) + "=v"), "invalid_request"),
        ["grant_type repeated"] = TokenError(p => Token(p, FormOf(("grant_type", "client_credentials"), ("grant_type", "client_credentials"))), "invalid_request"),
        ["grant_type repeated with different values"] = TokenError(p => Token(p, FormOf(("grant_type", "client_credentials"), ("grant_type", "authorization_code"))), "invalid_request"),
        ["client_id repeated in the form"] = TokenError(p => Token(p, FormOf(("grant_type", "client_credentials"), ("client_id", p.World.Public.ClientId), ("client_id", p.World.Public.ClientId)), basic: false), "invalid_request"),
        ["client_secret repeated"] = TokenError(p => Token(p, FormOf(("grant_type", "client_credentials"), ("client_id", p.World.Confidential.ClientId), ("client_secret", p.World.Confidential.Secret!), ("client_secret", p.World.Confidential.Secret!)), basic: false), "invalid_request"),
        ["scope repeated"] = TokenError(p => Token(p, FormOf(("grant_type", "client_credentials"), ("scope", "profile"), ("scope", "email"))), "invalid_request"),
        ["Basic and client_secret together"] = TokenError(p => Token(p, FormOf(("grant_type", "client_credentials"), ("client_secret", p.World.Confidential.Secret!))), "invalid_request"),
        ["Basic for one client, client_id of another"] = TokenError(p => Token(p, FormOf(("grant_type", "client_credentials"), ("client_id", p.World.Introspector.ClientId))), "invalid_client"),
        ["Basic credentials that are not base64"] = TokenError(p => Token(p, "grant_type=client_credentials", basic: false, configure: Authorization("Basic", "!!!not-base64!!!")), "invalid_client"),
        ["Basic credentials without a colon"] = TokenError(p => Token(p, "grant_type=client_credentials", basic: false, configure: Authorization("Basic", Convert.ToBase64String("nocolon"u8.ToArray()))), "invalid_client"),
        ["Basic credentials with an empty client id"] = TokenError(p => Token(p, "grant_type=client_credentials", basic: false, configure: Authorization("Basic", Convert.ToBase64String(":secret"u8.ToArray()))), "invalid_client"),
        ["Basic credentials of invalid UTF-8"] = TokenError(p => Token(p, "grant_type=client_credentials", basic: false, configure: Authorization("Basic", Convert.ToBase64String([0xC3, 0x28, 0xFF, (byte)':', 0xFE]))), "invalid_client"),
        ["Basic credentials with broken percent-encoding"] = TokenError(p => Token(p, "grant_type=client_credentials", basic: false, configure: Authorization("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("%zz%:%E0%A4%A:secret")))), "invalid_client"),
        ["Basic with the right id and a wrong secret"] = TokenError(p => Token(p, "grant_type=client_credentials", basic: false, configure: request => request.Headers.Authorization = World.BasicOf(p.World.Confidential.ClientId, "wrong")), "invalid_client"),
        ["Basic credentials of 64 KB"] = TokenError(p => Token(p, "grant_type=client_credentials", basic: false, configure: Authorization("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(new string('a', 48_000) + ":" + new string('b', 48_000))))), "invalid_client"),
        ["an Authorization header of 64 KB of garbage"] = TokenError(p => Token(p, "grant_type=client_credentials", basic: false, configure: Authorization("Basic", new string('A', 65_536))), "invalid_client"),
        ["two Authorization headers"] = TokenError(p => Token(p, "grant_type=client_credentials", configure: Authorization("Basic", "Zm9vOmJhcg==")), "invalid_client"),
        ["Bearer instead of client credentials"] = TokenError(p => Token(p, "grant_type=client_credentials", basic: false, configure: Bearer(p.World.AccessToken)), "invalid_client"),
        ["an unknown authentication scheme"] = TokenError(p => Token(p, "grant_type=client_credentials", basic: false, configure: Authorization("Digest", "username=\"x\"")), "invalid_client"),
        ["a client_id of 100 000 characters"] = TokenError(p => Token(p, FormOf(("grant_type", "client_credentials"), ("client_id", Huge)), basic: false), "invalid_client"),
        ["a client_id with NUL and CR LF"] = TokenError(p => Token(p, FormOf(("grant_type", "client_credentials"), ("client_id", p.World.Public.ClientId + "\0\r\n")), basic: false), "invalid_request", "invalid_client"),
        ["a client_id with a Cyrillic look-alike letter"] = TokenError(p => Token(p, FormOf(("grant_type", "authorization_code"), ("code", "x"), ("client_id", p.World.Public.ClientId.Replace('c', '\u0441'))), basic: false), "invalid_client"),
        ["a client_id with SQL"] = TokenError(p => Token(p, FormOf(("grant_type", "client_credentials"), ("client_id", "x' OR '1'='1")), basic: false), "invalid_client"),
        ["a public client sending a secret"] = TokenError(p => Token(p, FormOf(("grant_type", "authorization_code"), ("code", "x"), ("client_id", p.World.Public.ClientId), ("client_secret", "guess")), basic: false), "invalid_client"),
        ["a confidential client without its secret"] = TokenError(p => Token(p, FormOf(("grant_type", "client_credentials"), ("client_id", p.World.Confidential.ClientId)), basic: false), "invalid_client"),
        ["no grant_type"] = TokenError(p => Token(p, FormOf(("scope", "profile"))), "invalid_request"),
        ["an empty grant_type"] = TokenError(p => Token(p, "grant_type="), "invalid_request"),
        ["an unknown grant_type"] = TokenError(p => Token(p, FormOf(("grant_type", "magic"))), "unsupported_grant_type"),
        ["the password grant"] = TokenError(p => Token(p, FormOf(("grant_type", "password"), ("username", p.World.User.UserName!), ("password", "correct horse battery staple"))), "unsupported_grant_type"),
        ["the implicit grant"] = TokenError(p => Token(p, FormOf(("grant_type", "implicit"))), "unsupported_grant_type"),
        ["a grant_type of 100 000 characters"] = TokenError(p => Token(p, FormOf(("grant_type", Huge))), "unsupported_grant_type"),
        ["a grant_type with broken percent-encoding"] = TokenError(p => Token(p, "grant_type=%ZZclient_credentials%"), "unsupported_grant_type"),
        ["a grant_type of invalid UTF-8"] = TokenError(p => Token(p, "grant_type=client%C3%28credentials%FF"), "unsupported_grant_type"),
        ["a grant_type with a NUL byte"] = TokenError(p => Token(p, "grant_type=client_credentials%00"), "invalid_request", "unsupported_grant_type"),
        ["a grant the client may not use"] = TokenError(p => p.PostAsync("/connect/token", "grant_type=client_credentials", Form, Basic(p.World.Public)), "invalid_client", "unauthorized_client"),
        ["no code"] = TokenError(p => Token(p, FormOf(("grant_type", "authorization_code"), ("code_verifier", new string('a', 43)))), "invalid_request"),
        ["a garbage code"] = TokenError(p => Token(p, FormOf(("grant_type", "authorization_code"), ("code", "garbage"), ("code_verifier", new string('a', 43)))), "invalid_grant"),
        ["a code of 100 000 characters"] = TokenError(p => Token(p, FormOf(("grant_type", "authorization_code"), ("code", Huge))), "invalid_grant"),
        ["a code with SQL"] = TokenError(p => Token(p, FormOf(("grant_type", "authorization_code"), ("code", "' OR 1=1; DELETE FROM Tokens; --"))), "invalid_grant"),
        ["an access token as the code"] = TokenError(p => Token(p, FormOf(("grant_type", "authorization_code"), ("code", p.World.AccessToken))), "invalid_grant"),
        ["a refresh token as the code"] = TokenError(p => Token(p, FormOf(("grant_type", "authorization_code"), ("code", p.World.RefreshToken), ("code_verifier", new string('a', 43)))), "invalid_grant"),
        ["no refresh_token"] = TokenError(p => Token(p, FormOf(("grant_type", "refresh_token"))), "invalid_request"),
        ["a garbage refresh_token"] = TokenError(p => Token(p, FormOf(("grant_type", "refresh_token"), ("refresh_token", "garbage"))), "invalid_grant"),
        ["a refresh_token of 100 000 characters"] = TokenError(p => Token(p, FormOf(("grant_type", "refresh_token"), ("refresh_token", Huge))), "invalid_grant"),
        ["another client's refresh_token"] = TokenError(p => p.PostAsync("/connect/token", FormOf(("grant_type", "refresh_token"), ("refresh_token", p.World.RefreshToken), ("client_id", p.World.Public.ClientId))), "invalid_grant"),
        ["a refresh asking for more scope"] = TokenError(p => Token(p, FormOf(("grant_type", "refresh_token"), ("refresh_token", p.World.RefreshToken), ("scope", "openid admin"))), "invalid_scope"),
        ["a refresh asking for another resource"] = TokenError(p => Token(p, FormOf(("grant_type", "refresh_token"), ("refresh_token", p.World.RefreshToken), ("resource", "https://evil.example/"))), "invalid_target"),
        ["an access token as the refresh_token"] = TokenError(p => Token(p, FormOf(("grant_type", "refresh_token"), ("refresh_token", p.World.AccessToken))), "invalid_grant"),
        ["client_credentials with an unknown scope"] = TokenError(p => Token(p, FormOf(("grant_type", "client_credentials"), ("scope", "root"))), "invalid_scope"),
        ["client_credentials with script as the scope"] = TokenError(p => Token(p, FormOf(("grant_type", "client_credentials"), ("scope", Script))), "invalid_scope"),
        ["client_credentials with a scope of 100 000 characters"] = TokenError(p => Token(p, FormOf(("grant_type", "client_credentials"), ("scope", Huge))), "invalid_scope"),
        ["client_credentials with a javascript: resource"] = TokenError(p => Token(p, FormOf(("grant_type", "client_credentials"), ("resource", "javascript:alert(1)"))), "invalid_target"),
        ["client_credentials with a relative resource"] = TokenError(p => Token(p, FormOf(("grant_type", "client_credentials"), ("resource", "../../etc/passwd"))), "invalid_target"),
        ["GET instead of POST"] = new(p => p.GetAsync("/connect/token?grant_type=client_credentials", Basic(p.World.Confidential)), (_, r) => StatusIs(r, HttpStatusCode.MethodNotAllowed)),
        ["PUT instead of POST"] = new(p => p.SendAsync(HttpMethod.Put, "/connect/token", new StringContent("grant_type=client_credentials", Encoding.UTF8, Form), Basic(p.World.Confidential)), (_, r) => StatusIs(r, HttpStatusCode.MethodNotAllowed)),
    };

    private static Task StatusIs(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        return Task.CompletedTask;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Introspection (RFC 7662): forgeries are inactive, never errors that tell them apart
    // ------------------------------------------------------------------------------------------------------------

    public static TheoryData<string> IntrospectionCaseNames => Names(IntrospectionCases);

    [Theory]
    [MemberData(nameof(IntrospectionCaseNames))]
    public Task Introspection_refuses(string name) => RunAsync(IntrospectionCases[name]);

    /// <summary>The positive control: the world's access token, re-signed by the server for the introspecting resource server, is active.</summary>
    [Fact]
    public async Task The_untampered_retargeted_token_the_forgeries_start_from_is_active()
    {
        var world = await server.WorldAsync();
        using var http = CreateClient(server);
        var probe = new Probe(server, world, http);
        using var response = await probe.PostAsync("/connect/introspect", FormOf(("token", ForIntrospector(probe))), Form, Basic(world.Introspector));
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(body.GetProperty("active").GetBoolean());
    }

    /// <summary>The world's access token as the introspecting client's resource would receive it (aud = its resource identifier), signed by the server.</summary>
    private static string ForIntrospector(Probe p) => Forge.SignedByServer(p.Server, p.World.AccessToken, payload => payload["aud"] = p.World.Introspector.ClientId);

    private static string ForIntrospector(Probe p, Action<JsonObject> change, Action<JsonObject>? header = null) =>
        Forge.SignedByServer(p.Server, p.World.AccessToken, payload =>
        {
            payload["aud"] = p.World.Introspector.ClientId;
            change(payload);
        }, header);

    private static HostileCase Inactive(Func<Probe, string> token) => new(
        p => p.PostAsync("/connect/introspect", FormOf(("token", token(p))), Form, Basic(p.World.Introspector)),
        async (_, response) =>
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.False(body.GetProperty("active").GetBoolean());
            Assert.Single(body.EnumerateObject()); // {"active":false} and nothing else (§2.2)
        });

    private static readonly Dictionary<string, HostileCase> IntrospectionCases = new()
    {
        ["a garbage token"] = Inactive(_ => "garbage"),
        ["a token of 100 000 characters"] = Inactive(_ => Huge),
        ["a JWT of 9000 characters"] = Inactive(p => ForIntrospector(p, payload => payload["pad"] = new string('p', 9000))),
        ["three dots"] = Inactive(_ => "..."),
        ["two dots"] = Inactive(_ => ".."),
        ["a JWT with garbage segments"] = Inactive(_ => "eyJ!!!.eyJ@@@.###"),
        ["a JWT whose header is not JSON"] = Inactive(_ => Convert.ToBase64String("not json"u8.ToArray()) + ".e30.sig"),
        ["alg none"] = Inactive(p => Forge.AlgNone(ForIntrospector(p))),
        ["alg none without a signature segment"] = Inactive(p => Forge.AlgNoneWithoutSignatureSegment(ForIntrospector(p))),
        ["alg HS256 keyed with the public key"] = Inactive(p => Forge.Hs256WithPublicKey(p.Server, ForIntrospector(p))),
        ["a foreign key behind the server's kid"] = Inactive(p => Forge.ForeignKeySameKid(ForIntrospector(p))),
        ["a foreign key behind an unknown kid"] = Inactive(p => Forge.ForeignKeyUnknownKid(ForIntrospector(p))),
        ["a payload changed after signing"] = Inactive(p => Forge.TamperedPayload(ForIntrospector(p), "sub", "someone-else")),
        ["a scope added after signing"] = Inactive(p => Forge.TamperedPayload(ForIntrospector(p), "scope", "openid admin")),
        ["a signature cut short"] = Inactive(p => ForIntrospector(p)[..^10]),
        ["the server's key with a wrong issuer"] = Inactive(p => ForIntrospector(p, payload => payload["iss"] = "https://evil.example")),
        ["the server's key, expired"] = Inactive(p => ForIntrospector(p, payload => payload["exp"] = Forge.Now(p.Server) - 60)),
        ["the server's key with exp as a string"] = Inactive(p => ForIntrospector(p, payload => payload["exp"] = "tomorrow")),
        ["the server's key without exp"] = Inactive(p => ForIntrospector(p, payload => payload.Remove("exp"))),
        ["the server's key without client_id"] = Inactive(p => ForIntrospector(p, payload => payload.Remove("client_id"))),
        ["the server's key with typ JWT instead of at+jwt"] = Inactive(p => ForIntrospector(p, _ => { }, header => header["typ"] = "JWT")),
        ["the server's key with an unknown grant id"] = Inactive(p => ForIntrospector(p, payload => payload[IdentityServer.Tokens.TokenIssuer.AuthorizationIdClaim] = "no-such-grant")),
        ["an ID token"] = Inactive(p => p.World.IdToken),
        ["another client's refresh token"] = Inactive(p => p.World.RefreshToken),
        ["a refresh token with SQL"] = Inactive(_ => "' OR 1=1 --"),
        ["missing token"] = new(p => p.PostAsync("/connect/introspect", "token_type_hint=access_token", Form, Basic(p.World.Introspector)),
            async (_, r) => await OAuthErrorAsync(r, ["invalid_request"], HttpStatusCode.BadRequest)),
        ["token repeated"] = new(p => p.PostAsync("/connect/introspect", FormOf(("token", "a"), ("token", "b")), Form, Basic(p.World.Introspector)),
            async (_, r) => await OAuthErrorAsync(r, ["invalid_request"], HttpStatusCode.BadRequest)),
        ["JSON instead of a form"] = new(p => p.PostAsync("/connect/introspect", "{\"token\":\"x\"}", "application/json", Basic(p.World.Introspector)),
            async (_, r) => await OAuthErrorAsync(r, ["invalid_request"], HttpStatusCode.BadRequest)),
        ["a body of 5 MB"] = new(p => p.PostAsync("/connect/introspect", "token=" + new string('x', 5_000_000), Form, Basic(p.World.Introspector)),
            async (_, r) => await OAuthErrorAsync(r, ["invalid_request"], HttpStatusCode.BadRequest)),
        ["no client authentication"] = new(p => p.PostAsync("/connect/introspect", FormOf(("token", p.World.AccessToken))),
            async (_, r) => await OAuthErrorAsync(r, ["invalid_client"], HttpStatusCode.Unauthorized)),
        ["a public client"] = new(p => p.PostAsync("/connect/introspect", FormOf(("token", p.World.AccessToken), ("client_id", p.World.Public.ClientId))),
            async (_, r) => await OAuthErrorAsync(r, ["invalid_client"], HttpStatusCode.Unauthorized)),
        ["a client without the introspection permission"] = new(p => p.PostAsync("/connect/introspect", FormOf(("token", p.World.AccessToken)), Form, Basic(p.World.Confidential)),
            async (_, r) => await OAuthErrorAsync(r, ["unauthorized_client"], HttpStatusCode.Forbidden)),
        ["a bearer token instead of client credentials"] = new(p => p.PostAsync("/connect/introspect", FormOf(("token", p.World.AccessToken)), Form, Bearer(p.World.AccessToken)),
            async (_, r) => await OAuthErrorAsync(r, ["invalid_client"], HttpStatusCode.Unauthorized)),
    };

    // ------------------------------------------------------------------------------------------------------------
    // Revocation (RFC 7009): 200 for what cannot be revoked, and nothing revoked by a forgery
    // ------------------------------------------------------------------------------------------------------------

    public static TheoryData<string> RevocationCaseNames => Names(RevocationCases);

    [Theory]
    [MemberData(nameof(RevocationCaseNames))]
    public Task Revocation_refuses(string name) => RunAsync(RevocationCases[name]);

    /// <summary>§2.2: an invalid token is answered 200, so a caller learns nothing; the snapshot proves nothing was revoked.</summary>
    private static HostileCase NothingRevoked(Func<Probe, string> token) => new(
        p => p.PostAsync("/connect/revoke", FormOf(("token", token(p))), Form, Basic(p.World.Confidential)),
        (_, response) => StatusIs(response, HttpStatusCode.OK));

    private static string ForConfidential(Probe p) => p.World.AccessToken;

    private static readonly Dictionary<string, HostileCase> RevocationCases = new()
    {
        ["a garbage token"] = NothingRevoked(_ => "garbage"),
        ["a token of 100 000 characters"] = NothingRevoked(_ => Huge),
        ["alg none of the client's own access token"] = NothingRevoked(p => Forge.AlgNone(ForConfidential(p))),
        ["alg HS256 keyed with the public key"] = NothingRevoked(p => Forge.Hs256WithPublicKey(p.Server, ForConfidential(p))),
        ["a foreign key behind the server's kid"] = NothingRevoked(p => Forge.ForeignKeySameKid(ForConfidential(p))),
        ["a foreign key behind an unknown kid"] = NothingRevoked(p => Forge.ForeignKeyUnknownKid(ForConfidential(p))),
        ["a jti changed after signing"] = NothingRevoked(p => Forge.TamperedPayload(ForConfidential(p), "jti", "another-jti")),
        ["another client's access token"] = new(p => p.PostAsync("/connect/revoke", FormOf(("token", p.World.AccessToken)), Form, Basic(p.World.Introspector)),
            (_, r) => StatusIs(r, HttpStatusCode.OK)),
        ["another client's refresh token"] = new(p => p.PostAsync("/connect/revoke", FormOf(("token", p.World.RefreshToken), ("client_id", p.World.Public.ClientId))),
            (_, r) => StatusIs(r, HttpStatusCode.OK)),
        ["an ID token"] = NothingRevoked(p => p.World.IdToken),
        ["a token with SQL"] = NothingRevoked(_ => "'; UPDATE Authorizations SET Status='revoked'; --"),
        ["missing token"] = new(p => p.PostAsync("/connect/revoke", "token_type_hint=refresh_token", Form, Basic(p.World.Confidential)),
            async (_, r) => await OAuthErrorAsync(r, ["invalid_request"], HttpStatusCode.BadRequest)),
        ["token repeated"] = new(p => p.PostAsync("/connect/revoke", FormOf(("token", p.World.RefreshToken), ("token", p.World.RefreshToken)), Form, Basic(p.World.Confidential)),
            async (_, r) => await OAuthErrorAsync(r, ["invalid_request"], HttpStatusCode.BadRequest)),
        ["JSON instead of a form"] = new(p => p.PostAsync("/connect/revoke", $"{{\"token\":\"{p.World.RefreshToken}\"}}", "application/json", Basic(p.World.Confidential)),
            async (_, r) => await OAuthErrorAsync(r, ["invalid_request"], HttpStatusCode.BadRequest)),
        ["no client authentication"] = new(p => p.PostAsync("/connect/revoke", FormOf(("token", p.World.RefreshToken))),
            async (_, r) => await OAuthErrorAsync(r, ["invalid_client"], HttpStatusCode.Unauthorized)),
        ["a wrong secret"] = new(p => p.PostAsync("/connect/revoke", FormOf(("token", p.World.RefreshToken)), Form, r => r.Headers.Authorization = World.BasicOf(p.World.Confidential.ClientId, "wrong")),
            async (_, r) => await OAuthErrorAsync(r, ["invalid_client"], HttpStatusCode.Unauthorized)),
        ["malformed Basic credentials"] = new(p => p.PostAsync("/connect/revoke", FormOf(("token", p.World.RefreshToken)), Form, Authorization("Basic", "%%%")),
            async (_, r) => await OAuthErrorAsync(r, ["invalid_client"], HttpStatusCode.Unauthorized)),
    };

    // ------------------------------------------------------------------------------------------------------------
    // UserInfo (OpenID Connect Core §5.3, RFC 6750)
    // ------------------------------------------------------------------------------------------------------------

    public static TheoryData<string> UserInfoCaseNames => Names(UserInfoCases);

    [Theory]
    [MemberData(nameof(UserInfoCaseNames))]
    public Task UserInfo_refuses(string name) => RunAsync(UserInfoCases[name]);

    private static HostileCase InvalidToken(Func<Probe, string> token) => new(
        p => p.GetAsync("/connect/userinfo", Bearer(token(p))),
        async (_, response) =>
        {
            await OAuthErrorAsync(response, ["invalid_token"], HttpStatusCode.Unauthorized);
            Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        });

    private static HostileCase BareChallenge(Func<Probe, Task<HttpResponseMessage>> send) => new(send, (_, response) =>
    {
        // RFC 6750 §3.1 and RFC 9449 §7.1: a request without credentials gets a challenge per scheme, without an error code.
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(["Bearer", "DPoP"], response.Headers.WwwAuthenticate.Select(c => c.Scheme));
        Assert.Equal("realm=\"userinfo\"", response.Headers.WwwAuthenticate.First().Parameter);
        Assert.DoesNotContain("error=", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        return Task.CompletedTask;
    });

    private static readonly Dictionary<string, HostileCase> UserInfoCases = new()
    {
        ["a garbage token"] = InvalidToken(_ => "garbage"),
        ["a token of 60 000 characters"] = InvalidToken(_ => new string('A', 60_000)),
        ["alg none"] = InvalidToken(p => Forge.AlgNone(p.World.AccessToken)),
        ["alg HS256 keyed with the public key"] = InvalidToken(p => Forge.Hs256WithPublicKey(p.Server, p.World.AccessToken)),
        ["a foreign key behind the server's kid"] = InvalidToken(p => Forge.ForeignKeySameKid(p.World.AccessToken)),
        ["a foreign key behind an unknown kid"] = InvalidToken(p => Forge.ForeignKeyUnknownKid(p.World.AccessToken)),
        ["a subject changed after signing"] = InvalidToken(p => Forge.TamperedPayload(p.World.AccessToken, "sub", "admin")),
        ["the server's key with a wrong issuer"] = InvalidToken(p => Forge.SignedByServer(p.Server, p.World.AccessToken, payload => payload["iss"] = "https://evil.example")),
        ["the server's key, expired"] = InvalidToken(p => Forge.SignedByServer(p.Server, p.World.AccessToken, payload => payload["exp"] = Forge.Now(p.Server) - 1)),
        ["the server's key, for another audience"] = InvalidToken(p => Forge.SignedByServer(p.Server, p.World.AccessToken, payload => payload["aud"] = "https://api.other.example")),
        ["the server's key, for a user that does not exist"] = InvalidToken(p => Forge.SignedByServer(p.Server, p.World.AccessToken, payload => payload["sub"] = "no-such-user")),
        ["an ID token"] = InvalidToken(p => p.World.IdToken),
        ["a refresh token"] = InvalidToken(p => p.World.RefreshToken),
        ["no credentials"] = BareChallenge(p => p.GetAsync("/connect/userinfo")),
        ["the token in the query string"] = BareChallenge(p => p.GetAsync("/connect/userinfo?access_token=" + Uri.EscapeDataString(p.World.AccessToken))),
        ["the token in a JSON body"] = BareChallenge(p => p.PostAsync("/connect/userinfo", $"{{\"access_token\":\"{p.World.AccessToken}\"}}", "application/json")),
        ["Basic credentials"] = BareChallenge(p => p.GetAsync("/connect/userinfo", Basic(p.World.Confidential))),
        ["the token in the header and the form"] = new(p => p.PostAsync("/connect/userinfo", FormOf(("access_token", p.World.AccessToken)), Form, Bearer(p.World.AccessToken)),
            async (_, r) => await OAuthErrorAsync(r, ["invalid_request"], HttpStatusCode.BadRequest)),
        ["the token twice in the form"] = new(p => p.PostAsync("/connect/userinfo", FormOf(("access_token", p.World.AccessToken), ("access_token", p.World.AccessToken))),
            async (_, r) => await OAuthErrorAsync(r, ["invalid_request"], HttpStatusCode.BadRequest)),
        ["a form body of 5 MB"] = new(p => p.PostAsync("/connect/userinfo", "access_token=" + new string('x', 5_000_000)),
            async (_, r) => await OAuthErrorAsync(r, ["invalid_request", "invalid_token"], HttpStatusCode.BadRequest, HttpStatusCode.Unauthorized)),
        ["a token without openid"] = new(p => p.GetAsync("/connect/userinfo", Bearer(p.World.AdminAccessToken)),
            async (_, r) => await OAuthErrorAsync(r, ["insufficient_scope"], HttpStatusCode.Forbidden)),
        ["DELETE"] = new(p => p.SendAsync(HttpMethod.Delete, "/connect/userinfo", null, Bearer(p.World.AccessToken)), (_, r) => StatusIs(r, HttpStatusCode.MethodNotAllowed)),
    };
}
