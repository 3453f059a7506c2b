using System.Net;
using System.Text.Json;
using IdentityServer.Data;
using IdentityServer.Migrations;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace IdentityServer.Tests;

/// <summary>The server starts on PostgreSQL, applies the migrations there, and the tables work.</summary>
public sealed class PostgresSmokeTests(PostgresServer server) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task Discovery_answers_on_PostgreSQL()
    {
        using var client = server.CreateClient();
        var response = await client.GetAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(ServerFactory.Issuer, json.RootElement.GetProperty("issuer").GetString());
    }

    [Fact]
    public async Task Start_applies_the_migrations_to_PostgreSQL()
    {
        _ = server.Services;
        var (provider, applied) = await server.WithDatabaseAsync(async db =>
            (db.Database.ProviderName, (await db.Database.GetAppliedMigrationsAsync()).ToList()));

        Assert.Equal("Npgsql.EntityFrameworkCore.PostgreSQL", provider);
        var initial = typeof(Initial).GetCustomAttributes(typeof(MigrationAttribute), inherit: false).Cast<MigrationAttribute>().Single().Id;
        Assert.Contains(initial, applied);
    }

    [Fact]
    public async Task The_Applications_table_exists_and_round_trips_a_row()
    {
        _ = server.Services;
        var clientId = "smoke-" + Guid.NewGuid().ToString("N");
        var created = new DateTime(2026, 11, 22, 10, 30, 0, DateTimeKind.Utc);
        await server.WithDatabaseAsync(async db =>
        {
            db.Applications.Add(new OAuthApplication
            {
                ClientId = clientId,
                ClientType = ClientTypes.Public,
                ConsentType = ConsentTypes.Explicit,
                DisplayName = "Smoke test",
                CreationDate = created,
            });
            await db.SaveChangesAsync();
        });

        var tables = await server.WithDatabaseAsync(db => db.Database
            .SqlQuery<string>($"SELECT table_name AS \"Value\" FROM information_schema.tables WHERE table_schema = 'public'")
            .ToListAsync());
        Assert.Contains("Applications", tables);

        var stored = await server.WithDatabaseAsync(db => db.Applications.AsNoTracking().SingleAsync(a => a.ClientId == clientId));
        Assert.Equal("Smoke test", stored.DisplayName);
        Assert.Equal(created, stored.CreationDate);
    }
}
