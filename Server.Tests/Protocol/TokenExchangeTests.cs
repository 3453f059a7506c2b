using System.Net;
using System.Text.Json;
using IdentityServer.Clients;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tests.Tokens;
using IdentityServer.Tokens;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace IdentityServer.Tests.Protocol;

/// <summary>
/// Token exchange (RFC 8693): a resource server exchanges a caller's access token for one to a downstream service,
/// impersonating the caller or acting for them (act claim), within its per-client policy; scope only narrows; the new
/// token is an access token only, belongs to the subject token's grant and never outlives it.
/// </summary>
[Collection(SharedProtocolServer.Name)]
public sealed class TokenExchangeTests(SqliteServer server)
{
    private const string Grant = "urn:ietf:params:oauth:grant-type:token-exchange";
    private const string AccessTokenType = "urn:ietf:params:oauth:token-type:access_token";
    private readonly TokenChecks _tokens = new(server);

    /// <summary>A caller's token for the API (audience: the API), the API as an exchanging client, and a downstream service.</summary>
    private sealed record World(TokenScenario Scenario, IssuedTokens UserTokens, TestClient Api, string Downstream) : IDisposable
    {
        public void Dispose() => Scenario.Dispose();
    }

    private async Task<World> WorldAsync(bool impersonation = true, bool delegation = true, bool confidential = true)
    {
        var scenario = await TokenScenario.CreateAsync(server);
        var downstream = "https://down-" + Guid.NewGuid().ToString("N")[..8] + ".example/";
        var api = await TestData.CreateClientAsync(server, confidential: confidential, grantTypes: [Grant, "client_credentials"],
            scopes: ["profile", scenario.Api], resource: scenario.Resource, settings: new ClientSettings
            {
                TokenExchangeAudiences = downstream + " https://other.example/",
                TokenExchangeImpersonation = impersonation ? true : null,
                TokenExchangeDelegation = delegation ? true : null,
            });
        var tokens = await scenario.SignInAsync("openid profile offline_access " + scenario.Api);
        return new World(scenario, tokens, api, downstream);
    }

    private static Task<EndpointAnswer> ExchangeAsync(World world, string subjectToken, TestClient? client = null, params (string Name, string Value)[] extra)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = Grant,
            ["subject_token"] = subjectToken,
            ["subject_token_type"] = AccessTokenType,
        };
        foreach (var (name, value) in extra)
        {
            form[name] = value;
        }

        return world.Scenario.PostAsync("/connect/token", client ?? world.Api, form);
    }

    private static async Task<string> ClientCredentialsTokenAsync(World world, TestClient client)
    {
        var answer = await world.Scenario.PostAsync("/connect/token", client, new() { ["grant_type"] = "client_credentials" });
        Assert.True(answer.Status == HttpStatusCode.OK, answer.Raw);
        return answer.Body.GetProperty("access_token").GetString()!;
    }

    private static void AssertError(EndpointAnswer answer, string error)
    {
        Assert.True(answer.Status == HttpStatusCode.BadRequest, answer.Raw);
        Assert.Equal("no-store", answer.Response.Headers.CacheControl?.ToString());
        Assert.Equal(error, answer.Error);
    }

    [Fact]
    public async Task Impersonation_issues_an_access_token_for_the_subject_to_the_audience_asked_for()
    {
        using var world = await WorldAsync();

        var answer = await ExchangeAsync(world, world.UserTokens.AccessToken, extra: [("audience", world.Downstream), ("scope", world.Scenario.Api)]);

        Assert.True(answer.Status == HttpStatusCode.OK, answer.Raw);
        Assert.Equal("no-store", answer.Response.Headers.CacheControl?.ToString());
        // §2.2.1: issued_token_type is required; this server issues access tokens only, never a refresh or ID token here.
        Assert.Equal(AccessTokenType, answer.Body.GetProperty("issued_token_type").GetString());
        Assert.Equal("Bearer", answer.Body.GetProperty("token_type").GetString());
        Assert.Equal(world.Scenario.Api, answer.Body.GetProperty("scope").GetString());
        Assert.False(answer.Body.TryGetProperty("refresh_token", out _));
        Assert.False(answer.Body.TryGetProperty("id_token", out _));

        var exchanged = await _tokens.AccessTokenAsync(answer.Body.GetProperty("access_token").GetString()!, world.Downstream,
            world.Api.ClientId, world.Scenario.User.Id);
        Assert.Equal([world.Downstream], exchanged.Audiences);
        Assert.False(exchanged.TryGetPayloadValue<JsonElement>("act", out _));
        var subject = new JsonWebToken(world.UserTokens.AccessToken);
        Assert.Equal(subject.GetClaim(TokenIssuer.AuthorizationIdClaim).Value, exchanged.GetClaim(TokenIssuer.AuthorizationIdClaim).Value);
        Assert.True(exchanged.ValidTo <= subject.ValidTo);

        var audit = await server.WithDatabaseAsync(db => db.AuditEntries.AsNoTracking()
            .SingleAsync(e => e.ClientId == world.Api.ClientId && e.Action == "token_exchange.issued"));
        Assert.Contains("impersonation", audit.Details, StringComparison.Ordinal);
        Assert.Contains(world.Scenario.App.ClientId, audit.Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delegation_names_the_actor_in_act_and_a_chain_nests_earlier_actors()
    {
        using var world = await WorldAsync();
        var actorToken = await ClientCredentialsTokenAsync(world, world.Api);

        var first = await ExchangeAsync(world, world.UserTokens.AccessToken,
            extra: [("audience", world.Downstream), ("actor_token", actorToken), ("actor_token_type", AccessTokenType)]);
        Assert.True(first.Status == HttpStatusCode.OK, first.Raw);
        var delegated = first.Body.GetProperty("access_token").GetString()!;
        var act = new JsonWebToken(delegated).GetPayloadValue<JsonElement>("act");
        Assert.Equal(world.Api.ClientId, act.GetProperty("sub").GetString());
        Assert.Equal(world.Scenario.User.Id, new JsonWebToken(delegated).Subject);

        // The downstream service exchanges that token again, acting itself: §4.1, the newest actor outermost.
        var downstream = await TestData.CreateClientAsync(server, grantTypes: [Grant, "client_credentials"], scopes: [world.Scenario.Api],
            resource: world.Downstream, settings: new ClientSettings { TokenExchangeAudiences = "https://third.example/", TokenExchangeDelegation = true });
        var second = await ExchangeAsync(world, delegated, downstream,
            ("audience", "https://third.example/"), ("actor_token", await ClientCredentialsTokenAsync(world, downstream)), ("actor_token_type", AccessTokenType));

        Assert.True(second.Status == HttpStatusCode.OK, second.Raw);
        var chain = new JsonWebToken(second.Body.GetProperty("access_token").GetString()).GetPayloadValue<JsonElement>("act");
        Assert.Equal(downstream.ClientId, chain.GetProperty("sub").GetString());
        Assert.Equal(world.Api.ClientId, chain.GetProperty("act").GetProperty("sub").GetString());
        Assert.False(chain.GetProperty("act").TryGetProperty("act", out _));
    }

    [Fact]
    public async Task Each_mode_needs_its_own_permission()
    {
        using var delegationOnly = await WorldAsync(impersonation: false);
        AssertError(await ExchangeAsync(delegationOnly, delegationOnly.UserTokens.AccessToken, extra: ("audience", delegationOnly.Downstream)), "unauthorized_client");

        using var impersonationOnly = await WorldAsync(delegation: false);
        var actorToken = await ClientCredentialsTokenAsync(impersonationOnly, impersonationOnly.Api);
        AssertError(await ExchangeAsync(impersonationOnly, impersonationOnly.UserTokens.AccessToken,
            extra: [("audience", impersonationOnly.Downstream), ("actor_token", actorToken), ("actor_token_type", AccessTokenType)]), "unauthorized_client");

        Assert.Contains("token_exchange.refused", await server.WithDatabaseAsync(db =>
            db.AuditEntries.Where(e => e.ClientId == delegationOnly.Api.ClientId).Select(e => e.Action).ToListAsync()));
    }

    [Fact]
    public async Task A_public_client_a_client_without_the_grant_and_a_client_the_token_is_not_for_are_refused()
    {
        using var world = await WorldAsync();
        var publicClient = await TestData.CreateClientAsync(server, confidential: false, grantTypes: [Grant], scopes: [world.Scenario.Api],
            resource: world.Scenario.Resource, settings: new ClientSettings { TokenExchangeImpersonation = true, TokenExchangeAudiences = world.Downstream });
        AssertError(await ExchangeAsync(world, world.UserTokens.AccessToken, publicClient), "unauthorized_client");

        AssertError(await ExchangeAsync(world, world.UserTokens.AccessToken, world.Scenario.ResourceServer), "unauthorized_client");

        // Neither issued to this client nor for it (its resource is not among the token's audiences).
        var bystander = await TestData.CreateClientAsync(server, grantTypes: [Grant], scopes: [world.Scenario.Api],
            settings: new ClientSettings { TokenExchangeImpersonation = true, TokenExchangeAudiences = world.Downstream });
        AssertError(await ExchangeAsync(world, world.UserTokens.AccessToken, bystander, ("audience", world.Downstream)), "invalid_grant");

        var rule = ClientMetadataValidator.Validate(new ClientDefinition { ClientType = IdentityServer.Data.ClientTypes.Public, GrantTypes = [GrantTypes.TokenExchange] },
            server.Services.GetRequiredService<IGrantTypeCatalog>(), knownScopes: null);
        Assert.Equal("grant_types", rule?.Field);
    }

    [Fact]
    public async Task An_actor_token_of_another_client_is_refused()
    {
        using var world = await WorldAsync();
        var otherActor = await ClientCredentialsTokenAsync(world, world.Scenario.ResourceServer);

        AssertError(await ExchangeAsync(world, world.UserTokens.AccessToken,
            extra: [("audience", world.Downstream), ("actor_token", otherActor), ("actor_token_type", AccessTokenType)]), "invalid_grant");
    }

    [Theory]
    [InlineData("requested_token_type", "urn:ietf:params:oauth:token-type:refresh_token")]
    [InlineData("requested_token_type", "urn:ietf:params:oauth:token-type:id_token")]
    [InlineData("subject_token_type", "urn:ietf:params:oauth:token-type:id_token")]
    [InlineData("subject_token_type", "urn:ietf:params:oauth:token-type:saml2")]
    [InlineData("actor_token_type", AccessTokenType)] // without an actor_token
    public async Task Unsupported_token_types_are_invalid_request_with_a_clear_reason(string parameter, string value)
    {
        using var world = await WorldAsync();

        var answer = await ExchangeAsync(world, world.UserTokens.AccessToken, extra: [("audience", world.Downstream), (parameter, value)]);

        AssertError(answer, "invalid_request");
        Assert.Contains("token", answer.Body.GetProperty("error_description").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_subject_token_an_actor_token_without_its_type_and_a_forged_token_are_refused()
    {
        using var world = await WorldAsync();
        var form = new Dictionary<string, string> { ["grant_type"] = Grant, ["subject_token_type"] = AccessTokenType };
        AssertError(await world.Scenario.PostAsync("/connect/token", world.Api, form), "invalid_request");
        AssertError(await ExchangeAsync(world, world.UserTokens.AccessToken, extra: ("actor_token", world.UserTokens.AccessToken)), "invalid_request");

        var parts = world.UserTokens.AccessToken.Split('.');
        var forged = parts[0] + "." + parts[1] + "." + new string('A', parts[2].Length);
        AssertError(await ExchangeAsync(world, forged, extra: ("audience", world.Downstream)), "invalid_grant");
        AssertError(await ExchangeAsync(world, "not-a-token", extra: ("audience", world.Downstream)), "invalid_grant");
    }

    [Fact]
    public async Task The_scope_can_only_narrow()
    {
        using var world = await WorldAsync();

        AssertError(await ExchangeAsync(world, world.UserTokens.AccessToken, extra: [("audience", world.Downstream), ("scope", world.Scenario.Api + " email")]), "invalid_scope");

        // Without a scope: the subject's, less offline_access (no refresh token) and less what this client may not have (openid stays).
        var answer = await ExchangeAsync(world, world.UserTokens.AccessToken, extra: ("audience", world.Downstream));
        Assert.True(answer.Status == HttpStatusCode.OK, answer.Raw);
        Assert.Equal(new[] { "openid", "profile", world.Scenario.Api }.Order(StringComparer.Ordinal),
            answer.Body.GetProperty("scope").GetString()!.Split(' ').Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Only_audiences_in_the_clients_policy_can_be_asked_for()
    {
        using var world = await WorldAsync();

        AssertError(await ExchangeAsync(world, world.UserTokens.AccessToken, extra: ("audience", "https://not-allowed.example/")), "invalid_target");
        AssertError(await ExchangeAsync(world, world.UserTokens.AccessToken, extra: ("resource", "https://not-allowed.example/")), "invalid_target");

        var byResource = await ExchangeAsync(world, world.UserTokens.AccessToken, extra: ("resource", "https://other.example/"));
        Assert.True(byResource.Status == HttpStatusCode.OK, byResource.Raw);
        Assert.Equal(["https://other.example/"], new JsonWebToken(byResource.Body.GetProperty("access_token").GetString()).Audiences);

        // Nothing asked for: only what the scopes name and the policy allows; here that is this server alone.
        var unnamed = await ExchangeAsync(world, world.UserTokens.AccessToken, extra: ("scope", world.Scenario.Api));
        Assert.True(unnamed.Status == HttpStatusCode.OK, unnamed.Raw);
        Assert.Equal([ServerFactory.Issuer], new JsonWebToken(unnamed.Body.GetProperty("access_token").GetString()).Audiences);
    }

    [Fact]
    public async Task The_exchanged_token_dies_with_the_subject_tokens_grant_and_never_outlives_it()
    {
        using var world = await WorldAsync();
        server.Time.Advance(TimeSpan.FromMinutes(8));

        var answer = await ExchangeAsync(world, world.UserTokens.AccessToken, extra: ("audience", world.Downstream));
        Assert.True(answer.Status == HttpStatusCode.OK, answer.Raw);
        Assert.InRange(answer.Body.GetProperty("expires_in").GetInt32(), 1, 120);
        var exchanged = answer.Body.GetProperty("access_token").GetString()!;
        var downstream = await TokenScenario.CreateResourceServerAsync(server, world.Downstream);
        await world.Scenario.AssertActiveAsync(exchanged, downstream);

        // The person's app revokes its refresh token: the whole family goes, and the exchanged token with it.
        Assert.Equal(HttpStatusCode.OK, (await world.Scenario.RevokeAsync(world.UserTokens.RefreshToken!)).Status);
        await world.Scenario.AssertInactiveAsync(exchanged, downstream);
        AssertError(await ExchangeAsync(world, world.UserTokens.AccessToken, extra: ("audience", world.Downstream)), "invalid_grant");
    }

    [Fact]
    public async Task A_delegation_chain_has_a_limit()
    {
        using var world = await WorldAsync();
        ActorClaim? chain = null;
        for (var i = 0; i < ActorClaim.MaxDepth; i++)
        {
            chain = new ActorClaim("actor-" + i, null, chain);
        }

        var subject = server.Services.GetRequiredService<TokenIssuer>().CreateAccessToken(new AccessTokenRequest(
            world.Scenario.User.Id, world.Scenario.App.ClientId, [world.Scenario.Resource], [world.Scenario.Api], TimeSpan.FromMinutes(5))
        { Actor = chain });
        var actorToken = await ClientCredentialsTokenAsync(world, world.Api);

        var answer = await ExchangeAsync(world, subject.Value, extra: [("audience", world.Downstream), ("actor_token", actorToken), ("actor_token_type", AccessTokenType)]);

        AssertError(answer, "invalid_request");
        Assert.Contains("chain", answer.Body.GetProperty("error_description").GetString(), StringComparison.Ordinal);
    }
}
