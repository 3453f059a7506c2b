using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication.OAuth;

namespace IdentityServer.Accounts.Federation;

/// <summary>
/// Reads a provider's user-information resource with the access token just obtained, over the handler's backchannel,
/// and turns every way it can go wrong into an <see cref="ExternalProviderException"/> with a reason.
/// </summary>
public static class ProviderUserInfo
{
    public static async Task<JsonDocument> GetAsync(OAuthCreatingTicketContext context, string url, Action<HttpRequestHeaders>? headers = null)
    {
        using var response = await SendAsync(context, url, headers);
        if (!response.IsSuccessStatusCode)
        {
            throw new ExternalProviderException(ExternalFailureReason.ProviderError,
                $"The user information request to {url} answered {(int)response.StatusCode}.");
        }

        return await ReadJsonAsync(context, response, url);
    }

    /// <summary>
    /// Like <see cref="GetAsync"/>, but the statuses in <paramref name="absentOn"/> are an answer (null: the provider does
    /// not give this resource to this token), not a failure. Every other error status (a 5xx, 429 rate limiting, 401) is
    /// the provider failing, which must end on the error page rather than be taken as "no such data".
    /// </summary>
    public static async Task<JsonDocument?> TryGetAsync(OAuthCreatingTicketContext context, string url, Action<HttpRequestHeaders>? headers,
        params HttpStatusCode[] absentOn)
    {
        using var response = await SendAsync(context, url, headers);
        if (response.IsSuccessStatusCode)
        {
            return await ReadJsonAsync(context, response, url);
        }

        return absentOn.Contains(response.StatusCode)
            ? null
            : throw new ExternalProviderException(ExternalFailureReason.ProviderError, $"The request to {url} answered {(int)response.StatusCode}.");
    }

    private static async Task<HttpResponseMessage> SendAsync(OAuthCreatingTicketContext context, string url, Action<HttpRequestHeaders>? headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        // RFC 6750 §2.1: the access token as a bearer credential.
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", context.AccessToken);
        headers?.Invoke(request.Headers);
        try
        {
            return await context.Backchannel.SendAsync(request, HttpCompletionOption.ResponseContentRead, context.HttpContext.RequestAborted);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            throw new ExternalProviderException(ExternalFailureReason.Unreachable, $"The user information request to {url} failed: {e.Message}", e);
        }
    }

    private static async Task<JsonDocument> ReadJsonAsync(OAuthCreatingTicketContext context, HttpResponseMessage response, string url)
    {
        try
        {
            return JsonDocument.Parse(await response.Content.ReadAsStringAsync(context.HttpContext.RequestAborted));
        }
        catch (JsonException e)
        {
            throw new ExternalProviderException(ExternalFailureReason.Malformed, $"The user information from {url} is not JSON.", e);
        }
    }

    /// <summary>The provider's user id: a non-empty string, or a number written as text (GitHub's ids are numbers).</summary>
    public static string RequiredId(JsonElement json, string property)
    {
        var id = json.ValueKind == JsonValueKind.Object && json.TryGetProperty(property, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number when value.TryGetInt64(out var number) => number.ToString(CultureInfo.InvariantCulture),
                _ => null,
            }
            : null;
        if (string.IsNullOrWhiteSpace(id) || id.Length > 256)
        {
            throw new ExternalProviderException(ExternalFailureReason.Malformed, $"The user information has no usable '{property}'.");
        }

        return id;
    }

    public static string? OptionalString(JsonElement json, string property) =>
        json.ValueKind == JsonValueKind.Object && json.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    /// <summary>A boolean flag; only a JSON <c>true</c> (or the string "true" some endpoints send) counts as true.</summary>
    public static bool IsTrue(JsonElement json, string property) =>
        json.ValueKind == JsonValueKind.Object && json.TryGetProperty(property, out var value)
        && (value.ValueKind == JsonValueKind.True || (value.ValueKind == JsonValueKind.String && value.GetString() == "true"));
}
