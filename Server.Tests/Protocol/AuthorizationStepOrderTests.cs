using IdentityServer.Protocol;
using IdentityServer.Protocol.Authorization;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;

namespace IdentityServer.Tests.Protocol;

/// <summary>
/// The order of the authorization request's validation steps: a request with two problems gets the error of the
/// earlier step, errors about the client or redirect_uri always win over errors for the client (and are never
/// redirected), and the consent page's door checks the return URL, then the session, then the request.
/// </summary>
[Collection(SharedProtocolServer.Name)]
public sealed class AuthorizationStepOrderTests(SqliteServer server)
{
    private const string Evil = "https://evil.example/callback";

    /// <summary>Two problems each; the expected answer is the earlier step's (a page error, or an error code and description).</summary>
    private static readonly Dictionary<string, ((string Name, string? Value)[] Overrides, (string Name, string Value)[] Extra, string Error, string Description)> Cases = new()
    {
        ["unknown client, then unregistered redirect_uri"] = ([("client_id", "no-such-client"), ("redirect_uri", Evil)], [], "page", "not registered with this server"),
        ["repeated redirect_uri, then bad response_type"] = ([("response_type", "token")], [("redirect_uri", Evil)], "page", "repeats the redirect_uri"),
        ["no redirect_uri with openid, then no PKCE"] = ([("redirect_uri", null), ("code_challenge", null)], [], "page", "has no redirect_uri"),
        ["unregistered redirect_uri, then bad response_type and no PKCE"] = ([("redirect_uri", Evil), ("response_type", "token"), ("code_challenge", null)], [], "page", "redirect_uri is not registered"),
        ["repeated state, then bad response_mode"] = ([("response_mode", "jwt")], [("state", "again")], "invalid_request", "state parameter is repeated"),
        ["bad response_mode, then a too long parameter"] = ([("response_mode", "jwt"), ("nonce", new string('n', 2049))], [], "invalid_request", "response_mode must be"),
        ["a too long parameter, then a request object"] = ([("nonce", new string('n', 2049)), ("request", "eyJ")], [], "invalid_request", "nonce parameter is too long"),
        ["request object, then request_uri"] = ([("request", "eyJ"), ("request_uri", "https://app.example/r")], [], "request_not_supported", "Request objects"),
        ["request_uri, then no response_type"] = ([("request_uri", "https://app.example/r"), ("response_type", null)], [], "request_uri_not_supported", "request_uri"),
        ["no response_type, then no PKCE"] = ([("response_type", null), ("code_challenge", null)], [], "invalid_request", "response_type is required"),
        ["response_type token, then no PKCE"] = ([("response_type", "token"), ("code_challenge", null)], [], "unsupported_response_type", "response_type=code"),
        ["no PKCE, then bad prompt"] = ([("code_challenge", null), ("prompt", "bogus")], [], "invalid_request", "code_challenge is required"),
        ["plain PKCE, then malformed challenge"] = ([("code_challenge_method", "plain"), ("code_challenge", "short")], [], "invalid_request", "code_challenge_method must be S256"),
        ["malformed challenge, then bad prompt"] = ([("code_challenge", "short"), ("prompt", "bogus")], [], "invalid_request", "not a base64url SHA-256"),
        ["unknown prompt, then bad max_age"] = ([("prompt", "none bogus"), ("max_age", "-1")], [], "invalid_request", "prompt has an unsupported value"),
        ["prompt none with login, then bad max_age"] = ([("prompt", "none login"), ("max_age", "-1")], [], "invalid_request", "prompt=none cannot be combined"),
        ["bad max_age, then unknown scope"] = ([("max_age", "-1"), ("scope", "openid no-such-scope")], [], "invalid_request", "max_age must be"),
        ["unknown scope, then bad resource"] = ([("scope", "openid no-such-scope"), ("resource", "not-a-uri")], [], "invalid_scope", "no-such-scope"),
        ["bad resource alone"] = ([("resource", "not-a-uri")], [], "invalid_target", "absolute URI"),
    };

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task The_earlier_step_decides_the_error(string name)
    {
        var (overrides, extra, error, description) = Cases[name];
        var client = await TestData.CreateClientAsync(server);

        var validation = await Validator.ValidateAsync(Parameters(client, overrides, extra), CancellationToken.None);

        Assert.Null(validation.Request);
        if (error == "page")
        {
            Assert.Contains(description, validation.PageError, StringComparison.Ordinal);
            Assert.Null(validation.ClientError);
            Assert.Null(validation.ErrorTarget);
        }
        else
        {
            Assert.Null(validation.PageError);
            Assert.Equal(error, validation.ClientError!.Error);
            Assert.Contains(description, validation.ClientError.Description, StringComparison.Ordinal);
            Assert.Equal(client.RedirectUri, validation.ErrorTarget!.RedirectUri);
        }
    }

    [Fact]
    public async Task A_client_without_the_code_grant_is_unauthorized_client_before_PKCE_is_looked_at()
    {
        var client = await TestData.CreateClientAsync(server, grantTypes: ["client_credentials"]);

        var validation = await Validator.ValidateAsync(Parameters(client, [("code_challenge", null)], []), CancellationToken.None);

        Assert.Equal("unauthorized_client", validation.ClientError!.Error);
    }

    [Theory]
    [InlineData("form_post", "form_post")]
    [InlineData("fragment", "fragment")]
    [InlineData("jwt", "query")]
    public async Task An_error_goes_back_in_the_requested_response_mode_with_the_state_or_in_query_when_that_mode_is_unsupported(string requested, string used)
    {
        var client = await TestData.CreateClientAsync(server);

        var validation = await Validator.ValidateAsync(Parameters(client, [("response_mode", requested), ("response_type", "token"), ("state", "s-1")], []), CancellationToken.None);

        Assert.NotNull(validation.ClientError);
        Assert.Equal(used, validation.ErrorTarget!.ResponseMode);
        Assert.Equal("s-1", validation.ErrorTarget.State);
    }

    [Fact]
    public async Task A_valid_request_carries_what_the_steps_established()
    {
        var client = await TestData.CreateClientAsync(server);

        var validation = await Validator.ValidateAsync(
            Parameters(client, [("redirect_uri", null), ("scope", "profile profile email"), ("prompt", "login consent"), ("max_age", "60")], []), CancellationToken.None);

        var request = validation.Request!;
        Assert.Equal(client.RedirectUri, request.RedirectUri);
        Assert.False(request.RedirectUriProvided);
        Assert.Equal("profile email", string.Join(" ", request.Scopes));
        Assert.Equal("login consent", string.Join(" ", request.Prompt));
        Assert.Equal(60, request.MaxAge);
        Assert.Equal("query", request.ResponseMode);
        Assert.NotNull(request.CodeChallenge);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("/")]
    [InlineData("https://evil.example/connect/authorize?client_id=x")]
    [InlineData("//evil.example/connect/authorize?client_id=x")]
    [InlineData("/connect/authorize?client_id=x\n")]
    [InlineData("/connect/authorize?client_id=x\u0085")]
    public async Task The_consent_door_refuses_a_return_url_that_is_not_a_local_authorize_url_even_without_a_session(string? returnUrl)
    {
        var pending = await ReadPendingAsync(returnUrl);

        Assert.Equal("The consent request is not valid.", pending.Error);
        Assert.Null(pending.SignInUrl);
        Assert.False(pending.IsReady);
    }

    [Fact]
    public async Task The_consent_door_asks_for_a_sign_in_before_it_validates_the_request()
    {
        const string returnUrl = "/connect/authorize?client_id=no-such-client";

        var pending = await ReadPendingAsync(returnUrl);

        Assert.Null(pending.Error);
        Assert.Equal("/account/login?returnUrl=" + Uri.EscapeDataString(returnUrl), pending.SignInUrl);
    }

    private AuthorizationRequestValidator Validator => server.Services.GetRequiredService<AuthorizationRequestValidator>();

    private async Task<PendingAuthorization> ReadPendingAsync(string? returnUrl)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        return await scope.ServiceProvider.GetRequiredService<PendingAuthorizationReader>().ReadAsync(context, returnUrl);
    }

    /// <summary>A valid request for <paramref name="client"/> with overrides applied (null removes) and extra values appended (so a name may repeat).</summary>
    private static OAuthParameters Parameters(TestClient client, (string Name, string? Value)[] overrides, (string Name, string Value)[] extra)
    {
        var query = new Dictionary<string, StringValues>(StringComparer.Ordinal)
        {
            ["response_type"] = "code",
            ["client_id"] = client.ClientId,
            ["redirect_uri"] = client.RedirectUri,
            ["scope"] = "openid profile",
            ["code_challenge"] = TestData.NewPkce().Challenge,
            ["code_challenge_method"] = "S256",
            ["state"] = "state-1",
        };
        foreach (var (name, value) in overrides)
        {
            if (value is null)
            {
                query.Remove(name);
            }
            else
            {
                query[name] = value;
            }
        }

        foreach (var (name, value) in extra)
        {
            query[name] = query.TryGetValue(name, out var existing) ? StringValues.Concat(existing, value) : value;
        }

        return OAuthParameters.From(query);
    }
}
