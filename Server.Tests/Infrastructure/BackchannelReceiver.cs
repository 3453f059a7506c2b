using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;

namespace IdentityServer.Tests.Infrastructure;

/// <summary>
/// A client's back-channel logout endpoint on a loopback port: it keeps every logout token it is sent. To show that a
/// token was <em>not</em> sent, a test waits for a later one (<see cref="WaitForSessionAsync"/>): notices leave the
/// server's queue in order, so by the time the later one has arrived an earlier one would have been sent too.
/// </summary>
public sealed class BackchannelReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<JsonWebToken> _received = new();

    private BackchannelReceiver(WebApplication app) => _app = app;

    public string Uri { get; private set; } = "";

    /// <summary>The logout tokens received so far, in order of arrival.</summary>
    public IReadOnlyList<JsonWebToken> Received => [.. _received];

    public static async Task<BackchannelReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var receiver = new BackchannelReceiver(builder.Build());
        receiver._app.MapPost("/logout", async (HttpRequest request) =>
        {
            var form = await request.ReadFormAsync();
            receiver._received.Enqueue(new JsonWebToken(form["logout_token"].ToString()));
            return Results.Ok();
        });
        await receiver._app.StartAsync();
        receiver.Uri = receiver._app.Urls.First() + "/logout";
        return receiver;
    }

    /// <summary>Waits for a logout token naming <paramref name="sessionId"/>, then a moment more for stragglers.</summary>
    public async Task<JsonWebToken> WaitForSessionAsync(string sessionId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (_received.FirstOrDefault(t => Sid(t) == sessionId) is { } token)
            {
                await Task.Delay(300);
                return token;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"No logout token for session {sessionId} arrived.");
    }

    public static string? Sid(JsonWebToken token) => token.TryGetPayloadValue<string>("sid", out var sid) ? sid : null;

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
