using System.Net;
using System.Text;
using AngleSharp.Html.Parser;
using IdentityServer.Tests.Infrastructure;
using static IdentityServer.Tests.Security.Hostile;

namespace IdentityServer.Tests.Security;

// The endpoints and pages a person's browser is sent to: the authorization and end-session endpoints, discovery and
// JWKS, and the sign-in, registration and consent forms.
public sealed partial class BadInputTests
{
    // ------------------------------------------------------------------------------------------------------------
    // Authorization endpoint (RFC 6749 §3.1, §4.1.2.1; OpenID Connect Core §3.1.2), by GET and by POST
    // ------------------------------------------------------------------------------------------------------------

    public static TheoryData<string, string> AuthorizeCaseNames
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var name in AuthorizeCases.Keys)
            {
                data.Add("GET", name);
                data.Add("POST", name);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(AuthorizeCaseNames))]
    public Task Authorization_endpoint_refuses(string method, string name)
    {
        var (query, check) = AuthorizeCases[name];
        return RunAsync(new HostileCase(
            p => method == "GET" ? p.GetAsync("/connect/authorize?" + query(p.World)) : p.PostAsync("/connect/authorize", query(p.World)),
            check));
    }

    /// <summary>A valid request of the world's confidential client with some parameters replaced, removed (null) or added.</summary>
    private static string Authorize(World w, params (string Name, string? Value)[] changes)
    {
        var pairs = new List<(string Name, string Value)>
        {
            ("response_type", "code"),
            ("client_id", w.Confidential.ClientId),
            ("redirect_uri", w.Confidential.RedirectUri),
            ("scope", "openid profile"),
            ("code_challenge", new string('c', 43)),
            ("code_challenge_method", "S256"),
            ("state", "state-1"),
            ("nonce", "nonce-1"),
        };
        foreach (var (name, value) in changes)
        {
            var at = pairs.FindIndex(p => p.Name == name);
            if (at >= 0)
            {
                pairs.RemoveAt(at);
            }

            if (value is not null)
            {
                pairs.Insert(Math.Max(at, 0), (name, value));
            }
        }

        return FormOf([.. pairs]);
    }

    private static (Func<World, string>, Func<Probe, HttpResponseMessage, Task>) Page(Func<World, string> query) =>
        (query, async (_, response) => await ErrorPageAsync(response));

    private static (Func<World, string>, Func<Probe, HttpResponseMessage, Task>) ToClient(Func<World, string> query, string error, string? state = "state-1") =>
        (query, (p, response) =>
        {
            var parameters = ClientRedirect(response, p.World.Confidential, error);
            if (state is not null)
            {
                Assert.Equal(state, parameters["state"]);
            }

            return Task.CompletedTask;
        }
    );

    /// <summary>Hostile but legal: the request goes on to sign-in, carrying the values intact and encoded.</summary>
    private static (Func<World, string>, Func<Probe, HttpResponseMessage, Task>) ToSignIn(Func<World, string> query) =>
        (query, (_, response) =>
        {
            LocalRedirect(response, "/account/login?returnUrl=%2Fconnect%2Fauthorize%3F");
            return Task.CompletedTask;
        }
    );

    private static readonly Dictionary<string, (Func<World, string> Query, Func<Probe, HttpResponseMessage, Task> Check)> AuthorizeCases = new()
    {
        ["no parameters"] = Page(_ => ""),
        ["an unknown client_id"] = Page(w => Authorize(w, ("client_id", "no-such-client"))),
        ["a client_id of 100 000 characters"] = Page(w => Authorize(w, ("client_id", Huge))),
        ["a client_id with a Cyrillic look-alike letter"] = Page(w => Authorize(w, ("client_id", w.Confidential.ClientId.Replace('c', '\u0441')))),
        ["a client_id of invalid UTF-8"] = Page(w => Authorize(w, ("client_id", null)) + "&client_id=%C3%28" + w.Confidential.ClientId),
        ["a client_id with broken percent-encoding"] = Page(w => Authorize(w, ("client_id", null)) + "&client_id=%ZZ" + w.Confidential.ClientId),
        ["client_id repeated"] = Page(w => Authorize(w) + "&client_id=" + w.Confidential.ClientId),
        ["client_id repeated with another client"] = Page(w => Authorize(w) + "&client_id=" + w.Public.ClientId),
        ["no redirect_uri (OpenID Connect requires it)"] = Page(w => Authorize(w, ("redirect_uri", null))),
        ["an unregistered redirect_uri"] = Page(w => Authorize(w, ("redirect_uri", "https://evil.example/callback"))),
        ["a redirect_uri with a Cyrillic look-alike host"] = Page(w => Authorize(w, ("redirect_uri", w.Confidential.RedirectUri.Replace(".app.", ".\u0430pp.", StringComparison.Ordinal)))),
        ["a redirect_uri with a fullwidth slash"] = Page(w => Authorize(w, ("redirect_uri", w.Confidential.RedirectUri.Replace("/callback", "\uFF0Fcallback", StringComparison.Ordinal)))),
        ["a redirect_uri in upper case"] = Page(w => Authorize(w, ("redirect_uri", w.Confidential.RedirectUri.ToUpperInvariant()))),
        ["a redirect_uri with a path traversal"] = Page(w => Authorize(w, ("redirect_uri", w.Confidential.RedirectUri + "/../../evil"))),
        ["a redirect_uri with another query"] = Page(w => Authorize(w, ("redirect_uri", w.Confidential.RedirectUri + "?next=https://evil.example"))),
        ["a redirect_uri with a fragment"] = Page(w => Authorize(w, ("redirect_uri", w.Confidential.RedirectUri + "#x"))),
        ["a redirect_uri with userinfo"] = Page(w => Authorize(w, ("redirect_uri", w.Confidential.RedirectUri.Replace("https://", "https://evil.example@", StringComparison.Ordinal)))),
        ["a redirect_uri with a trailing NUL"] = Page(w => Authorize(w, ("redirect_uri", w.Confidential.RedirectUri + "\0"))),
        ["a redirect_uri with CR LF"] = Page(w => Authorize(w, ("redirect_uri", w.Confidential.RedirectUri + "\r\nLocation: https://evil.example"))),
        ["a javascript: redirect_uri"] = Page(w => Authorize(w, ("redirect_uri", "javascript:alert(document.cookie)"))),
        ["a redirect_uri percent-encoded twice"] = Page(w => Authorize(w, ("redirect_uri", Uri.EscapeDataString(w.Confidential.RedirectUri)))),
        ["redirect_uri repeated"] = Page(w => Authorize(w) + "&redirect_uri=" + Uri.EscapeDataString(w.Confidential.RedirectUri)),
        ["another client's redirect_uri"] = Page(w => Authorize(w, ("redirect_uri", w.Public.RedirectUri))),
        ["a JSON object instead of parameters"] = Page(_ => "{\"client_id\":\"x\"}"),
        ["state repeated"] = ToClient(w => Authorize(w) + "&state=other", "invalid_request", state: null),
        ["scope repeated"] = ToClient(w => Authorize(w) + "&scope=admin", "invalid_request"),
        ["code_challenge repeated"] = ToClient(w => Authorize(w) + "&code_challenge=" + new string('d', 43), "invalid_request"),
        ["no response_type"] = ToClient(w => Authorize(w, ("response_type", null)), "invalid_request"),
        ["response_type token (implicit)"] = ToClient(w => Authorize(w, ("response_type", "token")), "unsupported_response_type"),
        ["response_type code id_token (hybrid)"] = ToClient(w => Authorize(w, ("response_type", "code id_token")), "unsupported_response_type"),
        ["response_type of 2000 characters"] = ToClient(w => Authorize(w, ("response_type", new string('r', 2000))), "unsupported_response_type"),
        ["response_mode jwt (JARM, not offered)"] = ToClient(w => Authorize(w, ("response_mode", "jwt")), "invalid_request"),
        ["an unknown response_mode"] = ToClient(w => Authorize(w, ("response_mode", "web_message")), "invalid_request"),
        ["no code_challenge"] = ToClient(w => Authorize(w, ("code_challenge", null)), "invalid_request"),
        ["code_challenge_method plain"] = ToClient(w => Authorize(w, ("code_challenge_method", "plain")), "invalid_request"),
        ["no code_challenge_method"] = ToClient(w => Authorize(w, ("code_challenge_method", null)), "invalid_request"),
        ["a code_challenge that is not base64url"] = ToClient(w => Authorize(w, ("code_challenge", new string('+', 43))), "invalid_request"),
        ["a code_challenge of 2000 characters"] = ToClient(w => Authorize(w, ("code_challenge", new string('c', 2000))), "invalid_request"),
        ["an unknown scope"] = ToClient(w => Authorize(w, ("scope", "openid root")), "invalid_scope"),
        ["a scope the client may not have"] = ToClient(w => Authorize(w, ("scope", "openid admin")), "invalid_scope"),
        ["script as the scope"] = ToClient(w => Authorize(w, ("scope", Script)), "invalid_scope"),
        ["an unknown prompt"] = ToClient(w => Authorize(w, ("prompt", "everything")), "invalid_request"),
        ["prompt none with login"] = ToClient(w => Authorize(w, ("prompt", "none login")), "invalid_request"),
        ["a negative max_age"] = ToClient(w => Authorize(w, ("max_age", "-1")), "invalid_request"),
        ["a max_age that is not a number"] = ToClient(w => Authorize(w, ("max_age", "1e9")), "invalid_request"),
        ["a max_age past 32 bits"] = ToClient(w => Authorize(w, ("max_age", "99999999999999999999")), "invalid_request"),
        ["a request object"] = ToClient(w => Authorize(w, ("request", "eyJhbGciOiJub25lIn0.eyJjbGllbnRfaWQiOiJ4In0.")), "request_not_supported"),
        ["a request_uri"] = ToClient(w => Authorize(w, ("request_uri", "https://evil.example/request.jwt")), "request_uri_not_supported"),
        ["a resource that is not a URI"] = ToClient(w => Authorize(w, ("resource", "not a uri")), "invalid_target"),
        ["a resource with a fragment"] = ToClient(w => Authorize(w, ("resource", "https://api.example/#x")), "invalid_target"),
        ["an unknown resource"] = ToClient(w => Authorize(w, ("resource", "https://evil.example/")), "invalid_target"),
        ["a parameter of 100 000 characters (a very long URL)"] = ToClient(w => Authorize(w, ("junk", Huge)), "invalid_request"),
        ["a nonce of 3000 characters"] = ToClient(w => Authorize(w, ("nonce", new string('n', 3000))), "invalid_request"),
        ["CR LF in state, echoed in the error redirect"] = ToClient(w => Authorize(w, ("state", CrLfInjection), ("response_type", null)), "invalid_request", CrLfInjection),
        ["script in state, echoed in the error redirect"] = ToClient(w => Authorize(w, ("state", Script), ("response_type", null)), "invalid_request", Script),
        ["CR LF in state on the way to sign-in"] = ToSignIn(w => Authorize(w, ("state", CrLfInjection))),
        ["script in state and nonce on the way to sign-in"] = ToSignIn(w => Authorize(w, ("state", Script), ("nonce", Script))),
        ["script in login_hint on the way to sign-in"] = ToSignIn(w => Authorize(w, ("login_hint", Script))),
        ["script in state, echoed in the form_post page"] = (w => Authorize(w, ("state", Script), ("response_mode", "form_post"), ("response_type", null)), FormPostErrorPageAsync),
    };

    /// <summary>The form_post answer (OAuth 2.0 Form Post Response Mode): the values HTML-encoded, the only script the hashed auto-submit.</summary>
    private static async Task FormPostErrorPageAsync(Probe p, HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("<script>alert", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", html, StringComparison.Ordinal);
        var document = new HtmlParser().ParseDocument(html);
        var form = document.Forms.Single();
        Assert.Equal(p.World.Confidential.RedirectUri, form.Action);
        Assert.Equal(Script, form.QuerySelector("input[name=state]")!.GetAttribute("value"));
        Assert.Equal("invalid_request", form.QuerySelector("input[name=error]")!.GetAttribute("value"));
        var script = Assert.Single(document.Scripts);
        Assert.Equal("document.forms[0].submit();", script.Text);
        var policy = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("script-src 'sha256-", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", policy, StringComparison.Ordinal);
    }

    [Fact]
    public Task Authorization_endpoint_refuses_a_multipart_POST() =>
        RunAsync(new HostileCase(p => p.PostAsync("/connect/authorize", $"--b\r\nContent-Disposition: form-data; name=\"client_id\"\r\n\r\n{p.World.Confidential.ClientId}\r\n--b--\r\n", "multipart/form-data; boundary=b"),
            async (_, response) => await ErrorPageAsync(response)));

    [Fact]
    public Task Authorization_endpoint_refuses_a_JSON_POST() =>
        RunAsync(new HostileCase(p => p.PostAsync("/connect/authorize", $"{{\"client_id\":\"{p.World.Confidential.ClientId}\"}}", "application/json"),
            async (_, response) => await ErrorPageAsync(response)));

    [Fact]
    public Task Authorization_endpoint_refuses_a_POST_of_5_MB() =>
        RunAsync(new HostileCase(p => p.PostAsync("/connect/authorize", Authorize(p.World) + "&junk=" + new string('x', 5_000_000)),
            async (_, response) => await ErrorPageAsync(response)));

    // ------------------------------------------------------------------------------------------------------------
    // End-session endpoint (OpenID Connect RP-Initiated Logout 1.0)
    // ------------------------------------------------------------------------------------------------------------

    public static TheoryData<string> EndSessionCaseNames => Names(EndSessionCases);

    [Theory]
    [MemberData(nameof(EndSessionCaseNames))]
    public Task End_session_endpoint_refuses(string name) => RunAsync(EndSessionCases[name]);

    private static HostileCase LogoutPage(Func<Probe, string> query, bool post = false, string contentType = Form) => new(
        p => post ? p.PostAsync("/connect/endsession", query(p), contentType) : p.GetAsync("/connect/endsession?" + query(p)),
        async (_, response) => await ErrorPageAsync(response));

    private static HostileCase SignedOutLocally(Func<Probe, string> query) => new(
        p => p.GetAsync("/connect/endsession?" + query(p)),
        (_, response) =>
        {
            Assert.Equal("/account/logout?signedOut=true", LocalRedirect(response, "/account/logout"));
            return Task.CompletedTask;
        });

    private const string SignedOut = "https://rp.example/signed-out";

    private static readonly Dictionary<string, HostileCase> EndSessionCases = new()
    {
        ["an unregistered post_logout_redirect_uri"] = LogoutPage(p => FormOf(("client_id", p.World.Confidential.ClientId), ("post_logout_redirect_uri", "https://evil.example/"))),
        ["a post_logout_redirect_uri with no client named"] = LogoutPage(_ => FormOf(("post_logout_redirect_uri", SignedOut))),
        ["a post_logout_redirect_uri with a look-alike host"] = LogoutPage(p => FormOf(("client_id", p.World.Confidential.ClientId), ("post_logout_redirect_uri", "https://rp.ex\u0430mple/signed-out"))),
        ["a post_logout_redirect_uri with a path traversal"] = LogoutPage(p => FormOf(("client_id", p.World.Confidential.ClientId), ("post_logout_redirect_uri", SignedOut + "/../../evil"))),
        ["another client's post_logout_redirect_uri"] = LogoutPage(p => FormOf(("client_id", p.World.Public.ClientId), ("post_logout_redirect_uri", SignedOut))),
        ["a javascript: post_logout_redirect_uri"] = LogoutPage(p => FormOf(("client_id", p.World.Confidential.ClientId), ("post_logout_redirect_uri", "javascript:alert(1)"))),
        ["post_logout_redirect_uri repeated"] = LogoutPage(p => FormOf(("client_id", p.World.Confidential.ClientId), ("post_logout_redirect_uri", SignedOut), ("post_logout_redirect_uri", "https://evil.example/"))),
        ["state repeated"] = LogoutPage(p => FormOf(("client_id", p.World.Confidential.ClientId), ("state", "a"), ("state", "b"))),
        ["a garbage id_token_hint"] = LogoutPage(_ => FormOf(("id_token_hint", "garbage"))),
        ["an id_token_hint of 100 000 characters"] = LogoutPage(_ => FormOf(("id_token_hint", Huge))),
        ["an id_token_hint with alg none"] = LogoutPage(p => FormOf(("id_token_hint", Forge.AlgNone(p.World.IdToken)), ("post_logout_redirect_uri", SignedOut))),
        ["an id_token_hint with HS256 keyed with the public key"] = LogoutPage(p => FormOf(("id_token_hint", Forge.Hs256WithPublicKey(p.Server, p.World.IdToken)), ("post_logout_redirect_uri", SignedOut))),
        ["an id_token_hint signed by a foreign key"] = LogoutPage(p => FormOf(("id_token_hint", Forge.ForeignKeySameKid(p.World.IdToken)), ("post_logout_redirect_uri", SignedOut))),
        ["an id_token_hint with an unknown kid"] = LogoutPage(p => FormOf(("id_token_hint", Forge.ForeignKeyUnknownKid(p.World.IdToken)))),
        ["an id_token_hint changed after signing"] = LogoutPage(p => FormOf(("id_token_hint", Forge.TamperedPayload(p.World.IdToken, "aud", p.World.Public.ClientId)))),
        ["an id_token_hint of another issuer"] = LogoutPage(p => FormOf(("id_token_hint", Forge.SignedByServer(p.Server, p.World.IdToken, payload => payload["iss"] = "https://evil.example")))),
        ["an access token as id_token_hint"] = LogoutPage(p => FormOf(("id_token_hint", p.World.AccessToken))),
        ["a client_id other than the hint's audience"] = LogoutPage(p => FormOf(("id_token_hint", p.World.IdToken), ("client_id", p.World.Public.ClientId))),
        ["a JSON POST"] = LogoutPage(_ => "{\"post_logout_redirect_uri\":\"https://evil.example/\"}", post: true, contentType: "application/json"),
        ["a multipart POST"] = LogoutPage(_ => "--b\r\nContent-Disposition: form-data; name=\"post_logout_redirect_uri\"\r\n\r\nhttps://evil.example/\r\n--b--\r\n", post: true,
            contentType: "multipart/form-data; boundary=b"),
        ["a POST with an unregistered post_logout_redirect_uri"] = LogoutPage(p => FormOf(("client_id", p.World.Confidential.ClientId), ("post_logout_redirect_uri", "https://evil.example/")), post: true),
        ["CR LF in state without a redirect"] = SignedOutLocally(_ => FormOf(("state", CrLfInjection))),
        ["a client_id of 100 000 characters"] = SignedOutLocally(_ => FormOf(("client_id", Huge))),
        ["broken percent-encoding"] = SignedOutLocally(_ => "state=%ZZ%C3%28&ui_locales=%"),
    };

    // ------------------------------------------------------------------------------------------------------------
    // Discovery and JWKS: hostile requests get the documents or a 404/405, nothing else
    // ------------------------------------------------------------------------------------------------------------

    public static TheoryData<string> DiscoveryCaseNames => Names(DiscoveryCases);

    [Theory]
    [MemberData(nameof(DiscoveryCaseNames))]
    public Task Discovery_and_JWKS_refuse(string name) => RunAsync(DiscoveryCases[name]);

    private static HostileCase Document(string url, string member, Action<HttpRequestMessage>? configure = null) => new(
        p => p.GetAsync(url, configure),
        async (probe, response) =>
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            Assert.True(System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.TryGetProperty(member, out _));
        });

    private static HostileCase Status(Func<Probe, Task<HttpResponseMessage>> send, params HttpStatusCode[] statuses) => new(send, (_, response) =>
    {
        Assert.Contains(response.StatusCode, statuses);
        return Task.CompletedTask;
    });

    private static readonly Dictionary<string, HostileCase> DiscoveryCases = new()
    {
        ["discovery with a query of 100 000 characters"] = Document("/.well-known/openid-configuration?x=" + Huge, "issuer"),
        ["discovery with broken percent-encoding"] = Document("/.well-known/openid-configuration?%ZZ=%C3%28", "issuer"),
        ["discovery asked for HTML"] = Document("/.well-known/openid-configuration", "issuer", r => r.Headers.TryAddWithoutValidation("Accept", "text/html")),
        ["discovery with a forged Host"] = Document("/.well-known/openid-configuration", "issuer", r => r.Headers.Host = "evil.example"),
        ["discovery with X-Forwarded-Host"] = Document("/.well-known/openid-configuration", "issuer", r => r.Headers.TryAddWithoutValidation("X-Forwarded-Host", "evil.example")),
        ["JWKS with a query of 100 000 characters"] = Document("/.well-known/jwks?x=" + Huge, "keys"),
        ["JWKS with a 64 KB Authorization header"] = Document("/.well-known/jwks", "keys", Authorization("Bearer", new string('A', 65_536))),
        ["discovery POSTed"] = Status(p => p.PostAsync("/.well-known/openid-configuration", "x=1"), HttpStatusCode.MethodNotAllowed),
        ["JWKS DELETEd"] = Status(p => p.SendAsync(HttpMethod.Delete, "/.well-known/jwks", null), HttpStatusCode.MethodNotAllowed),
        // The dot segments are resolved (RFC 3986 §5.2.4) before routing: this is a GET of the token endpoint.
        ["an encoded path traversal out of .well-known"] = Status(p => p.GetAsync("/.well-known/%2e%2e/connect/token"), HttpStatusCode.NotFound, HttpStatusCode.MethodNotAllowed),
        ["an encoded slash traversal"] = Status(p => p.GetAsync("/.well-known/jwks%2f..%2f..%2fappsettings.json"), HttpStatusCode.NotFound),
        ["the data folder through static files"] = Status(p => p.GetAsync("/..%2fdata%2fidentity.db"), HttpStatusCode.NotFound, HttpStatusCode.BadRequest),
    };

    // ------------------------------------------------------------------------------------------------------------
    // Sign-in form
    // ------------------------------------------------------------------------------------------------------------

    public static TheoryData<string> LoginCaseNames => Names(LoginCases);

    [Theory]
    [MemberData(nameof(LoginCaseNames))]
    public Task Sign_in_form_refuses(string name) => RunAsync(LoginCases[name]);

    private const string GenericFailure = "That username and password did not work";

    /// <summary>A POST of the sign-in form with its antiforgery token, the fields as given (null: left out).</summary>
    private static async Task<HttpResponseMessage> LoginPostAsync(Probe p, string? username, string? password, string? returnUrl = null, params (string, string)[] extra)
    {
        var token = await p.AntiforgeryTokenAsync("/account/login");
        var fields = new List<(string, string)> { ("__RequestVerificationToken", token) };
        if (username is not null)
        {
            fields.Add(("Username", username));
        }

        if (password is not null)
        {
            fields.Add(("Password", password));
        }

        if (returnUrl is not null)
        {
            fields.Add(("ReturnUrl", returnUrl));
        }

        fields.AddRange(extra);
        return await p.PostAsync("/account/login", FormOf([.. fields]));
    }

    /// <summary>The form again, with the one message that reveals nothing, and the typed values encoded.</summary>
    private static HostileCase FailedSignIn(Func<Probe, Task<HttpResponseMessage>> send) => new(send, async (_, response) =>
    {
        var html = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(GenericFailure, html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>alert", html, StringComparison.Ordinal);
    }, FailedSignInMayBeAudited: true);

    /// <summary>Refused before the page runs (no valid antiforgery token, or not a readable form): an error page, not an empty answer.</summary>
    private static HostileCase RefusedForm(Func<Probe, Task<HttpResponseMessage>> send) => new(send, RefusedFormAsync);

    private static async Task RefusedFormAsync(Probe _, HttpResponseMessage response) =>
        await ErrorPageAsync(response, response.StatusCode == HttpStatusCode.UnsupportedMediaType ? HttpStatusCode.UnsupportedMediaType : HttpStatusCode.BadRequest);

    private static readonly Dictionary<string, HostileCase> LoginCases = new()
    {
        ["no antiforgery token"] = RefusedForm(p => p.PostAsync("/account/login", FormOf(("Username", p.World.User.UserName!), ("Password", TestData.Password)))),
        ["an antiforgery token without its cookie"] = RefusedForm(async p =>
        {
            var token = await p.AntiforgeryTokenAsync("/account/login");
            using var stranger = CreateClient(p.Server);
            return await stranger.PostAsync(new Uri("/account/login", UriKind.Relative),
                new StringContent(FormOf(("Username", p.World.User.UserName!), ("Password", TestData.Password), ("__RequestVerificationToken", token)), Encoding.UTF8, Form));
        }),
        ["a forged antiforgery token"] = RefusedForm(async p =>
        {
            await p.AntiforgeryTokenAsync("/account/login");
            return await p.PostAsync("/account/login", FormOf(("Username", p.World.User.UserName!), ("Password", TestData.Password), ("__RequestVerificationToken", "CfDJ8forged")));
        }),
        ["JSON instead of the form"] = RefusedForm(p => p.PostAsync("/account/login", $"{{\"Username\":\"{p.World.User.UserName}\",\"Password\":\"{TestData.Password}\"}}", "application/json")),
        ["a form body of 5 MB"] = RefusedForm(async p =>
        {
            var token = await p.AntiforgeryTokenAsync("/account/login");
            return await p.PostAsync("/account/login", FormOf(("__RequestVerificationToken", token), ("Username", "x"), ("Password", new string('p', 5_000_000))));
        }),
        ["no username"] = FailedSignIn(p => LoginPostAsync(p, null, TestData.Password)),
        ["no password"] = FailedSignIn(p => LoginPostAsync(p, p.World.User.UserName!, null)),
        ["an empty username and password"] = FailedSignIn(p => LoginPostAsync(p, "", "")),
        ["a username of 100 000 characters"] = FailedSignIn(p => LoginPostAsync(p, Huge, TestData.Password)),
        ["a password of 100 000 characters"] = FailedSignIn(p => LoginPostAsync(p, p.World.User.UserName!, Huge)),
        ["script as the username"] = FailedSignIn(p => LoginPostAsync(p, Script, "x")),
        ["SQL as the username"] = FailedSignIn(p => LoginPostAsync(p, "' OR '1'='1' --", "' OR '1'='1' --")),
        ["a username of invalid UTF-8"] = FailedSignIn(async p =>
        {
            var token = await p.AntiforgeryTokenAsync("/account/login");
            return await p.PostAsync("/account/login", "__RequestVerificationToken=" + Uri.EscapeDataString(token) + "&Username=%C3%28%FF&Password=%ZZ");
        }),
        ["the user's name with a Cyrillic look-alike letter"] = FailedSignIn(p => LoginPostAsync(p, p.World.User.UserName!.Replace('u', '\u0443'), TestData.Password)),
        ["an email no account has"] = FailedSignIn(p => LoginPostAsync(p, "NOBODY-" + Guid.NewGuid().ToString("N") + "@EXAMPLE.COM", "wrong")),
        ["an unknown user"] = FailedSignIn(p => LoginPostAsync(p, "nobody-" + Guid.NewGuid().ToString("N"), TestData.Password)),
        ["an unknown user with script in the return URL"] = FailedSignIn(p => LoginPostAsync(p, "nobody", "x", "/connect/authorize?state=" + Script)),
        ["an unknown user with an off-site return URL"] = FailedSignIn(p => LoginPostAsync(p, "nobody", "x", "https://evil.example/")),
        ["Username repeated"] = FailedSignIn(p => LoginPostAsync(p, "nobody", "x", null, ("Username", p.World.User.UserName!))),
        ["an unknown provider"] = new(async p =>
        {
            var token = await p.AntiforgeryTokenAsync("/account/login");
            return await p.PostAsync("/account/login?handler=External", FormOf(("__RequestVerificationToken", token), ("provider", "Evil")));
        }, async (_, response) =>
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("That sign-in option is not available.", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }),
        ["script in the login page's return URL and login_hint"] = new(p => p.GetAsync("/account/login?returnUrl=" + Uri.EscapeDataString(Script) + "&login_hint=" + Uri.EscapeDataString(Script)),
            async (_, response) =>
            {
                var html = await response.Content.ReadAsStringAsync();
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.DoesNotContain("<script>alert", html, StringComparison.Ordinal);
                Assert.DoesNotContain("<img", html, StringComparison.Ordinal);
            }),
    };

    // ------------------------------------------------------------------------------------------------------------
    // Registration form
    // ------------------------------------------------------------------------------------------------------------

    public static TheoryData<string> RegisterCaseNames => Names(RegisterCases);

    [Theory]
    [MemberData(nameof(RegisterCaseNames))]
    public Task Registration_form_refuses(string name) => RunAsync(RegisterCases[name]);

    private static async Task<HttpResponseMessage> RegisterPostAsync(Probe p, params (string Name, string? Value)[] changes)
    {
        var token = await p.AntiforgeryTokenAsync("/account/register");
        var name = "new" + Guid.NewGuid().ToString("N")[..10];
        var fields = new List<(string Name, string Value)>
        {
            ("__RequestVerificationToken", token),
            ("UserName", name),
            ("Email", name + "@example.com"),
            ("Password", TestData.Password),
            ("ConfirmPassword", TestData.Password),
        };
        foreach (var (field, value) in changes)
        {
            fields.RemoveAll(f => f.Name == field);
            if (value is not null)
            {
                fields.Add((field, value));
            }
        }

        return await p.PostAsync("/account/register", FormOf([.. fields]));
    }

    private static HostileCase NotRegistered(Func<Probe, Task<HttpResponseMessage>> send) => new(send, async (_, response) =>
    {
        var html = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("class=\"error\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>alert", html, StringComparison.Ordinal);
    });

    private static readonly Dictionary<string, HostileCase> RegisterCases = new()
    {
        ["no antiforgery token"] = RefusedForm(p => p.PostAsync("/account/register", FormOf(("UserName", "x"), ("Email", "x@example.com"), ("Password", TestData.Password), ("ConfirmPassword", TestData.Password)))),
        ["JSON instead of the form"] = RefusedForm(p => p.PostAsync("/account/register", "{\"UserName\":\"x\"}", "application/json")),
        ["no user name"] = NotRegistered(p => RegisterPostAsync(p, ("UserName", null))),
        ["script as the user name"] = NotRegistered(p => RegisterPostAsync(p, ("UserName", Script))),
        ["a user name of 100 000 characters"] = NotRegistered(p => RegisterPostAsync(p, ("UserName", Huge))),
        ["a user name with a path traversal"] = NotRegistered(p => RegisterPostAsync(p, ("UserName", "../../admin"))),
        ["a user name with a NUL"] = RefusedForm(p => RegisterPostAsync(p, ("UserName", "admin\0"))),
        ["the name of an existing user"] = NotRegistered(p => RegisterPostAsync(p, ("UserName", p.World.User.UserName))),
        ["no email"] = NotRegistered(p => RegisterPostAsync(p, ("Email", null))),
        ["an email with CR LF"] = NotRegistered(p => RegisterPostAsync(p, ("Email", "a@example.com\r\nBcc: all@example.com"))),
        ["script in the email"] = NotRegistered(p => RegisterPostAsync(p, ("Email", Script))),
        ["a name of 100 000 characters"] = NotRegistered(p => RegisterPostAsync(p, ("Name", Huge))),
        ["a short password"] = NotRegistered(p => RegisterPostAsync(p, ("Password", "short"), ("ConfirmPassword", "short"))),
        ["passwords that differ"] = NotRegistered(p => RegisterPostAsync(p, ("ConfirmPassword", "something else entirely"))),
        ["a password of 100 000 characters"] = NotRegistered(p => RegisterPostAsync(p, ("Password", Huge), ("ConfirmPassword", Huge))),
    };

    // ------------------------------------------------------------------------------------------------------------
    // Consent page (signed in)
    // ------------------------------------------------------------------------------------------------------------

    public static TheoryData<string> ConsentCaseNames => Names(ConsentCases);

    [Theory]
    [MemberData(nameof(ConsentCaseNames))]
    public Task Consent_page_refuses(string name) => RunAsync(ConsentCases[name]);

    /// <summary>Signs in first (the session row is preparation), then sends the consent request.</summary>
    private static HostileCase Consent(Func<Probe, Task<HttpResponseMessage>> send, Func<Probe, HttpResponseMessage, Task> check) => new(async p =>
    {
        await p.SignInAsync();
        await p.ReadyAsync();
        return await send(p);
    }, check);

    private static async Task ConsentErrorAsync(Probe _, HttpResponseMessage response)
    {
        var html = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("This request cannot be completed", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<form", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>alert", html, StringComparison.Ordinal);
    }

    private static string ConsentUrl(string returnUrl) => "/consent?returnUrl=" + Uri.EscapeDataString(returnUrl);

    private static async Task<HttpResponseMessage> ConsentPostAsync(Probe p, string returnUrl, string decision = "allow")
    {
        var token = await p.AntiforgeryTokenAsync("/account/login");
        return await p.PostAsync("/consent", FormOf(("__RequestVerificationToken", token), ("ReturnUrl", returnUrl), ("decision", decision)));
    }

    private static readonly Dictionary<string, HostileCase> ConsentCases = new()
    {
        ["no return URL"] = Consent(p => p.GetAsync("/consent"), ConsentErrorAsync),
        ["an off-site return URL"] = Consent(p => p.GetAsync(ConsentUrl("https://evil.example/connect/authorize?client_id=x")), ConsentErrorAsync),
        ["a protocol-relative return URL"] = Consent(p => p.GetAsync(ConsentUrl("//evil.example/connect/authorize?client_id=x")), ConsentErrorAsync),
        ["a return URL to another local page"] = Consent(p => p.GetAsync(ConsentUrl("/account/devices?x=1")), ConsentErrorAsync),
        ["a return URL with a path traversal"] = Consent(p => p.GetAsync(ConsentUrl("/connect/authorize/../../account/devices?")), ConsentErrorAsync),
        ["an unknown client"] = Consent(p => p.GetAsync(ConsentUrl("/connect/authorize?" + Authorize(p.World, ("client_id", "no-such-client")))), ConsentErrorAsync),
        ["an unregistered redirect_uri"] = Consent(p => p.GetAsync(ConsentUrl("/connect/authorize?" + Authorize(p.World, ("redirect_uri", "https://evil.example/cb")))), ConsentErrorAsync),
        ["script in the client_id"] = Consent(p => p.GetAsync(ConsentUrl("/connect/authorize?" + Authorize(p.World, ("client_id", Script)))), ConsentErrorAsync),
        ["allowing an unknown client"] = Consent(p => ConsentPostAsync(p, "/connect/authorize?" + Authorize(p.World, ("client_id", "no-such-client"))), ConsentErrorAsync),
        ["allowing with an unregistered redirect_uri"] = Consent(p => ConsentPostAsync(p, "/connect/authorize?" + Authorize(p.World, ("redirect_uri", "https://evil.example/cb"))), ConsentErrorAsync),
        ["allowing a scope the client may not have"] = Consent(p => ConsentPostAsync(p, "/connect/authorize?" + Authorize(p.World, ("scope", "openid admin"))), ConsentErrorAsync),
        ["allowing with an off-site return URL"] = Consent(p => ConsentPostAsync(p, "https://evil.example/connect/authorize?" + Authorize(p.World)), ConsentErrorAsync),
        ["allowing without an antiforgery token"] = Consent(p => p.PostAsync("/consent", FormOf(("ReturnUrl", "/connect/authorize?" + Authorize(p.World)), ("decision", "allow"))),
            RefusedFormAsync),
        ["allowing with JSON"] = Consent(p => p.PostAsync("/consent", "{\"decision\":\"allow\"}", "application/json"),
            RefusedFormAsync),
    };

    // ------------------------------------------------------------------------------------------------------------
    // Return URLs after a successful sign-in (these sign in, so they write a session: not part of the no-write suite)
    // ------------------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("https://evil.example/")]
    [InlineData("//evil.example/")]
    [InlineData("/\\evil.example/")]
    [InlineData("\\\\evil.example\\")]
    [InlineData("/%2F/evil.example")]
    [InlineData("/\t/evil.example")]
    [InlineData("javascript:alert(1)")]
    [InlineData("data:text/html,<script>alert(1)</script>")]
    [InlineData("http:evil.example")]
    [InlineData("https:\\\\evil.example")]
    [InlineData(" //evil.example")]
    [InlineData("/../../../etc/passwd")]
    public async Task A_return_URL_that_leaves_the_site_is_never_followed(string returnUrl)
    {
        var world = await server.WorldAsync();
        using var http = CreateClient(server);
        var probe = new Probe(server, world, http);

        using var response = await LoginPostAsync(probe, world.User.UserName!, TestData.Password, returnUrl);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!.OriginalString;
        // Either home, or the URL itself when it is a path of this site (a percent-encoded slash is a path character, not a host).
        Assert.True(location == "/" || (location == returnUrl && returnUrl.StartsWith('/') && returnUrl[1] is not ('/' or '\\')), $"Followed to {location}");
        NoForeignRedirect(response, world);
    }
}
