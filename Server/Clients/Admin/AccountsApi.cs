namespace IdentityServer.Clients.Admin;

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

        api.MapGet("/audit", async (int? limit, string? target, AdminAuditLog audit, HttpContext context) =>
                TypedResults.Ok((await audit.ListAsync(limit ?? 100, target, context.RequestAborted)).Select(AuditEntryModel.From).ToList()))
            .WithTags("Audit")
            .WithSummary("Admin changes, newest first (?target=client:web, ?limit=100)")
            .Produces<List<AuditEntryModel>>();

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
