using System.Net;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IdentityServer.Tests.Foundation;

/// <summary>
/// Database:StartInBackground (the default): the server listens while migrations and seeding run. Requests that need the
/// database wait for them, discovery and health do not, and readiness reports the database work.
/// </summary>
public sealed class DatabaseStartupTests
{
    [Fact]
    public async Task A_request_that_needs_the_database_waits_for_it_while_discovery_and_health_answer_at_once()
    {
        var startup = new DatabaseStartup();
        var reached = false;
        await using var app = await GateAppAsync(startup, () => reached = true);
        using var client = app.GetTestClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/health/live", UriKind.Relative))).StatusCode);

        var waiting = client.GetAsync(new Uri("/connect/userinfo", UriKind.Relative));
        await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromMilliseconds(200)));
        Assert.False(waiting.IsCompleted, "a request that needs the database was let through before it was ready");
        Assert.False(reached);

        await startup.RunAsync(() => Task.CompletedTask);
        Assert.Equal(HttpStatusCode.OK, (await waiting).StatusCode);
        Assert.True(reached);
    }

    [Fact]
    public async Task When_the_database_work_fails_waiting_requests_fail_with_its_reason()
    {
        var startup = new DatabaseStartup();
        await using var app = await GateAppAsync(startup, () => { });
        using var client = app.GetTestClient();

        var waiting = client.GetAsync(new Uri("/connect/userinfo", UriKind.Relative));
        await Assert.ThrowsAsync<InvalidOperationException>(() => startup.RunAsync(() => throw new InvalidOperationException("database down")));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await waiting).StatusCode);
        Assert.True(startup.Failed);
    }

    [Fact]
    public async Task Readiness_is_degraded_while_the_database_is_prepared_and_unhealthy_when_that_failed()
    {
        var starting = new DatabaseStartup();
        var check = new DatabaseStartupHealthCheck(starting);
        Assert.Equal(HealthStatus.Degraded, (await check.CheckHealthAsync(new HealthCheckContext())).Status);
        await starting.RunAsync(() => Task.CompletedTask);
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);

        var failing = new DatabaseStartup();
        await Assert.ThrowsAsync<InvalidOperationException>(() => failing.RunAsync(() => throw new InvalidOperationException("down")));
        Assert.Equal(HealthStatus.Unhealthy, (await new DatabaseStartupHealthCheck(failing).CheckHealthAsync(new HealthCheckContext())).Status);

        // The connection check sends no query while the database is prepared (it may not exist yet): no context needed,
        // and it leaves "not ready" to the start's check, so a probe's answer carries one reason, not two.
        var connection = new DatabaseConnectionHealthCheck(new DatabaseStartup(), db: null!);
        Assert.Equal(HealthStatus.Healthy, (await connection.CheckHealthAsync(new HealthCheckContext())).Status);
    }

    [Fact]
    public async Task The_server_started_in_the_background_becomes_ready_and_serves_the_database()
    {
        using var server = new BackgroundStartServer();
        using var client = server.CreateClient();
        // Discovery needs no database; the token endpoint does (client lookup) and is held until the database is ready.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative))).StatusCode);
        using var token = await client.PostAsync(new Uri("/connect/token", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = "nobody",
            ["client_secret"] = "nothing",
        }));
        Assert.Equal(HttpStatusCode.Unauthorized, token.StatusCode); // invalid_client: the database answered, the client is unknown

        await server.Services.GetRequiredService<DatabaseStartup>().Ready;
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode);
    }

    /// <summary>A bare app with only the gate in front of three endpoints, and an exception handler as in the server.</summary>
    private static async Task<WebApplication> GateAppAsync(DatabaseStartup startup, Action onReached)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddSingleton(startup);
        var app = builder.Build();
        app.UseExceptionHandler(error => error.Run(context =>
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return Task.CompletedTask;
        }));
        app.UseDatabaseStartupGate();
        app.MapGet("/.well-known/openid-configuration", () => "{}");
        app.MapGet("/health/live", () => "Healthy");
        app.MapGet("/connect/userinfo", () =>
        {
            onReached();
            return "{}";
        });
        await app.StartAsync();
        return app;
    }

    private sealed class BackgroundStartServer : ServerFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Database:StartInBackground"] = "true",
        };
    }
}
