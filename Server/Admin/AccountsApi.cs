using System.Globalization;
using IdentityServer.Audit;
using IdentityServer.Clients;
using IdentityServer.Protocol;
using Microsoft.AspNetCore.WebUtilities;

namespace IdentityServer.Admin;

/// <summary>The admin API's other resources: forcing a person's sign-out, the audit log, and initial access tokens.</summary>
internal static class AccountsApi
{
    public static RouteGroupBuilder MapAccountsApi(this RouteGroupBuilder api)
    {
        api.MapPost("/users/{userId}/sign-out", async (string userId, UserAdminService service, HttpContext context) =>
                await service.SignOutEverywhereAsync(userId, AdminActor.From(context.User), context.RequestAborted) is { } ended
                    ? TypedResults.Ok(new SignedOutModel(ended))
                    : AdminApiResults.NotFound("No such user."))
            .WithTags("Users")
            .WithSummary("Sign a person out everywhere: every session ends and every grant is revoked")
            .Produces<SignedOutModel>().Produces<ErrorResponse>(StatusCodes.Status404NotFound);

        api.MapGet("/audit", ListAuditAsync)
            .WithTags("Audit")
            .WithSummary("The audit log, newest first: admin changes and security events. Filters: kind, action, outcome, actor, client, "
                + "target, from, to (ISO 8601, to exclusive); paging: limit (1-1000, default 100) and offset, with a Link rel=\"next\" header")
            .Produces<List<AuditEntryModel>>().Produces<ErrorResponse>(StatusCodes.Status400BadRequest);

        var tokens = api.MapGroup("/registration-tokens").WithTags("Dynamic registration");
        tokens.MapPost("", IssueAsync)
            .WithSummary("Issue an initial access token for dynamic client registration (RFC 7591 §3); the token is in this answer only")
            .Accepts<InitialAccessTokenRequest>("application/json").Produces<InitialAccessTokenModel>(StatusCodes.Status201Created)
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest);
        tokens.MapGet("", async (InitialAccessTokenService service, HttpContext context) => TypedResults.Ok(await service.ListAsync(context.RequestAborted)))
            .WithSummary("Initial access tokens still usable").Produces<List<InitialAccessTokenModel>>();
        tokens.MapDelete("/{id}", async (string id, InitialAccessTokenService service, HttpContext context) =>
                await service.RevokeAsync(id, AdminActor.From(context.User), context.RequestAborted) ? TypedResults.NoContent() : AdminApiResults.NotFound("No such token."))
            .WithSummary("Revoke an initial access token").Produces(StatusCodes.Status204NoContent).Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        return api;
    }

    private static async Task<IResult> ListAuditAsync(HttpContext context, AuditLog audit, string? kind = null, string? action = null, string? outcome = null,
        string? actor = null, string? client = null, string? target = null, string? from = null, string? to = null, string? limit = null, string? offset = null)
    {
        // Parsed here rather than bound, so a bad value is an RFC 7591-shaped 400 naming the parameter.
        if (!TryParseTime(from, out var fromTime) || !TryParseTime(to, out var toTime))
        {
            return AdminApiResults.Error(StatusCodes.Status400BadRequest, RegistrationErrors.InvalidRequest, "from and to must be ISO 8601 date-times.");
        }

        if (!TryParseCount(limit, 100, 1, AuditLog.MaximumLimit, out var pageSize) || !TryParseCount(offset, 0, 0, int.MaxValue, out var skip))
        {
            return AdminApiResults.Error(StatusCodes.Status400BadRequest, RegistrationErrors.InvalidRequest, $"limit must be 1 to {AuditLog.MaximumLimit} and offset 0 or more.");
        }

        var entries = await audit.QueryAsync(new AuditQuery
        {
            Kind = kind,
            Action = action,
            Outcome = outcome,
            ActorId = actor,
            ClientId = client,
            Target = target,
            From = fromTime,
            To = toTime,
            Limit = pageSize,
            Offset = skip,
        }, context.RequestAborted);
        if (entries.Count == pageSize)
        {
            // RFC 8288: the next page, same filters.
            var next = QueryHelpers.AddQueryString(context.Request.Path, context.Request.Query
                .Where(p => p.Key != "offset")
                .SelectMany(p => p.Value.Select(v => new KeyValuePair<string, string?>(p.Key, v)))
                .Append(new("offset", (skip + pageSize).ToString(CultureInfo.InvariantCulture))));
            context.Response.Headers.Link = $"<{next}>; rel=\"next\"";
        }

        return TypedResults.Ok(entries.Select(AuditEntryModel.From).ToList());
    }

    private static bool TryParseTime(string? value, out DateTime? time)
    {
        time = null;
        if (value is null)
        {
            return true;
        }

        if (!DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
        {
            return false;
        }

        time = parsed.UtcDateTime;
        return true;
    }

    private static bool TryParseCount(string? value, int fallback, int min, int max, out int count)
    {
        count = fallback;
        return value is null || (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out count) && count >= min && count <= max);
    }

    private static async Task<IResult> IssueAsync(InitialAccessTokenService service, HttpContext context)
    {
        var (body, error) = await AdminApiResults.ReadJsonAsync<InitialAccessTokenRequest>(context.Request, optional: true);
        if (error is not null)
        {
            return error;
        }

        if (body!.ExpiresIn is < 0 or > 100L * 365 * 24 * 3600)
        {
            return AdminApiResults.Error(StatusCodes.Status400BadRequest, RegistrationErrors.InvalidRequest, "expires_in is out of range.");
        }

        var lifetime = body.ExpiresIn is { } seconds ? TimeSpan.FromSeconds(seconds) : (TimeSpan?)null;
        var result = await service.IssueAsync(body.Description, lifetime, body.MaxUses, AdminActor.From(context.User), context.RequestAborted);
        return AdminApiResults.From(result, token => TypedResults.Created($"/admin/api/registration-tokens/{token.Id}", token), "No such token.");
    }
}
