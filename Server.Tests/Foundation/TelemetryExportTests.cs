using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace IdentityServer.Tests.Foundation;

/// <summary>
/// OTLP export by configuration, end to end: the real server process is pointed (<c>Telemetry:Otlp:*</c>) at a small
/// OTLP/HTTP receiver on loopback, a token is issued, and the receiver must get the token request's trace and the
/// server's own counter. The protobuf bodies are read without the OTLP schema: every length-delimited field that is text.
/// </summary>
public sealed class TelemetryExportTests : IDisposable
{
    private const string ClientId = "otlp-m2m";
    private const string ClientSecret = "otlp-export-test-secret-0123456789abcdef";
    private readonly TempFolder _folder = new("idsrv-otlp-");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Metrics_and_traces_reach_an_otlp_http_collector()
    {
        await using var collector = await OtlpReceiver.StartAsync();
        var issuer = $"http://127.0.0.1:{ServerProcess.FreeLoopbackPort()}";
        using var server = ServerProcess.Start(new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Database__DataDirectory"] = Path.Combine(_folder.Path, "data"),
            ["Telemetry__Otlp__Endpoint"] = collector.Address,
            ["Telemetry__Otlp__Protocol"] = "HttpProtobuf",
            ["Telemetry__ServiceName"] = "otlp-export-test",
            // The SDK's own settings: export every half second instead of every minute (metrics) and five seconds (spans).
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            [$"Clients__{ClientId}__Type"] = "confidential",
            [$"Clients__{ClientId}__ClientSecret"] = ClientSecret,
            [$"Clients__{ClientId}__GrantTypes__0"] = "client_credentials",
        }, _folder.Path, "--urls", issuer);

        using var http = new HttpClient { BaseAddress = new Uri(issuer), Timeout = TimeSpan.FromSeconds(10) };
        await WaitUntilReadyAsync(http, server);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ClientId}:{ClientSecret}")));
        var token = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);

        // The token request as a server span, and our counter with the client it counted, from this service.
        var traces = await collector.WaitForAsync("/v1/traces", strings => strings.Contains("/connect/token"), server);
        Assert.Contains("otlp-export-test", traces);
        Assert.Contains(traces, s => s.StartsWith("POST", StringComparison.Ordinal) && s.Contains("connect/token", StringComparison.Ordinal));
        var metrics = await collector.WaitForAsync("/v1/metrics", strings => strings.Contains("identityserver.tokens.issued"), server);
        Assert.Contains(ClientId, metrics);
        Assert.Contains("client_credentials", metrics);
        Assert.Contains("otlp-export-test", metrics);
        Assert.All(collector.ContentTypes, type => Assert.Equal("application/x-protobuf", type));
    }

    private static async Task WaitUntilReadyAsync(HttpClient http, ServerProcess server)
    {
        var clock = Stopwatch.StartNew();
        // Generous: on a shared, loaded machine migrating and seeding a fresh database has taken close to a minute.
        while (clock.Elapsed < TimeSpan.FromSeconds(120) && !server.HasExited)
        {
            try
            {
                if ((await http.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100);
        }

        throw new Xunit.Sdk.XunitException($"not ready within 120 s (exited: {server.HasExited}). stdout: {server.StandardOutput} stderr: {server.StandardError}");
    }

    /// <summary>An OTLP/HTTP collector's two signal paths on loopback, keeping the text found in every body posted.</summary>
    private sealed class OtlpReceiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentDictionary<string, ConcurrentBag<string>> _strings = new();

        private OtlpReceiver(WebApplication app) => _app = app;

        public string Address { get; private set; } = "";

        public ConcurrentBag<string> ContentTypes { get; } = [];

        public static async Task<OtlpReceiver> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var receiver = new OtlpReceiver(builder.Build());
            foreach (var path in new[] { "/v1/traces", "/v1/metrics" })
            {
                receiver._app.MapPost(path, async (HttpRequest request) =>
                {
                    using var body = new MemoryStream();
                    await request.Body.CopyToAsync(body);
                    receiver.ContentTypes.Add(request.ContentType ?? "");
                    var found = receiver._strings.GetOrAdd(path, _ => []);
                    foreach (var text in Protobuf.Strings(body.ToArray()))
                    {
                        found.Add(text);
                    }

                    // An empty export response (OTLP/HTTP: a serialized Export…ServiceResponse, here with no field set).
                    return Results.Bytes([], "application/x-protobuf");
                });
            }

            await receiver._app.StartAsync();
            receiver.Address = receiver._app.Urls.First();
            return receiver;
        }

        /// <summary>The text received on <paramref name="path"/> once it satisfies <paramref name="done"/>; 60 s at most.</summary>
        public async Task<IReadOnlySet<string>> WaitForAsync(string path, Func<IReadOnlySet<string>, bool> done, ServerProcess server)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                var strings = _strings.TryGetValue(path, out var bag) ? bag.ToHashSet(StringComparer.Ordinal) : [];
                if (done(strings))
                {
                    return strings;
                }

                await Task.Delay(100);
            }

            var seen = _strings.TryGetValue(path, out var all) ? string.Join(", ", all.Distinct().Take(200)) : "nothing";
            throw new Xunit.Sdk.XunitException($"{path}: not received within 60 s. Seen: {seen}. stdout: {server.StandardOutput}");
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }

    /// <summary>
    /// Just enough protobuf to read OTLP without its schema: walk the fields, descend into every length-delimited field
    /// that parses as a message, and keep every one that is printable UTF-8 (span names, attribute keys and values,
    /// metric names). A string that happens to parse as a message is kept as well.
    /// </summary>
    private static class Protobuf
    {
        public static List<string> Strings(byte[] message)
        {
            var found = new List<string>();
            Walk(message, found, depth: 0);
            return found;
        }

        private static bool Walk(ReadOnlySpan<byte> data, List<string> found, int depth)
        {
            if (depth > 32)
            {
                return false;
            }

            var inner = new List<string>();
            var position = 0;
            while (position < data.Length)
            {
                if (!TryVarint(data, ref position, out var tag) || tag >> 3 == 0)
                {
                    return false;
                }

                switch (tag & 7)
                {
                    case 0:
                        if (!TryVarint(data, ref position, out _))
                        {
                            return false;
                        }

                        break;
                    case 1:
                        position += 8;
                        break;
                    case 5:
                        position += 4;
                        break;
                    case 2:
                        if (!TryVarint(data, ref position, out var length) || length > (ulong)(data.Length - position))
                        {
                            return false;
                        }

                        var field = data.Slice(position, (int)length);
                        position += (int)length;
                        Walk(field, inner, depth + 1);
                        if (Text(field) is { } text)
                        {
                            inner.Add(text);
                        }

                        break;
                    default:
                        return false;
                }
            }

            if (position != data.Length)
            {
                return false;
            }

            found.AddRange(inner);
            return true;
        }

        private static string? Text(ReadOnlySpan<byte> field)
        {
            if (field.Length == 0)
            {
                return null;
            }

            try
            {
                var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(field);
                return text.All(c => !char.IsControl(c)) ? text : null;
            }
            catch (DecoderFallbackException)
            {
                return null;
            }
        }

        private static bool TryVarint(ReadOnlySpan<byte> data, ref int position, out ulong value)
        {
            value = 0;
            for (var shift = 0; shift < 64 && position < data.Length; shift += 7)
            {
                var b = data[position++];
                value |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    return true;
                }
            }

            return false;
        }
    }
}
