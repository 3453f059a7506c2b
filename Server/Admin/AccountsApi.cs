using System.Globalization;
using IdentityServer.Audit;
using IdentityServer.Clients;
using IdentityServer.Data;
using IdentityServer.Protocol;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;

namespace IdentityServer.Admin;

/// <summary>The admin API's people (users, roles, custom claims), the audit log, and initial access tokens.</summary>
internal static class AccountsApi
{
    private const string NoSuchUser = "No such user.";

    private static RouteGroupBuilder MapUsersApi(this RouteGroupBuilder api)
    {
        var users = api.MapGroup("/users").WithTags("Users");
        users.MapGet("", ListUsersAsync)
            .WithSummary("Search and page users: q (a substring of user name or email, case-insensitive), limit (1-200, default 50), cursor "
                + "(next_cursor of the previous page, also in a Link rel=\"next\" header). Ordered by normalized user name.")
            .Produces<UserListModel>().Produces<ErrorResponse>(StatusCodes.Status400BadRequest);
        users.MapPost("", CreateUserAsync)
            .WithSummary("Create a local account; without a password one is generated and returned in this answer only. An email given here counts as verified.")
            .Accepts<CreateUserRequest>("application/json").Produces<CreatedUserModel>(StatusCodes.Status201Created)
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest);
        users.MapGet("/{userId}", async (string userId, UserAdminService service, HttpContext context) =>
                await service.GetAsync(userId, context.RequestAborted) is { } details
                    ? TypedResults.Ok(UserDetailsModel.From(details))
                    : AdminApiResults.NotFound(NoSuchUser))
            .WithSummary("One user: profile, roles, provider logins, live sessions, apps with grants (consent and authorizations), custom claims, "
                + "the latest 20 audit entries about them")
            .Produces<UserDetailsModel>().Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        users.MapPatch("/{userId}", UpdateUserAsync)
            .WithSummary("Change user name, name or email (omitted fields stay). A changed email is unverified unless email_verified is true; "
                + "a user name held by another account is a 409.")
            .Accepts<UserProfileRequest>("application/json").Produces<UserModel>()
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest).Produces<ErrorResponse>(StatusCodes.Status404NotFound)
            .Produces<ErrorResponse>(StatusCodes.Status409Conflict);
        users.MapDelete("/{userId}", async (string userId, UserAdminService service, HttpContext context) =>
                AdminApiResults.From(await service.DeleteAsync(userId, AdminActor.From(context.User), context.RequestAborted),
                    d => TypedResults.Ok(new DeletedUserModel(d.Id, d.UserName, d.SessionsEnded, d.GrantsRemoved, d.TokensRemoved)), NoSuchUser))
            .WithSummary("Delete a user: sessions end (with back-channel logout), grants, consent and tokens are revoked and removed, provider logins, "
                + "roles and custom claims go with the account; audit entries stay. Not yourself, not the last admin (409).")
            .Produces<DeletedUserModel>().Produces<ErrorResponse>(StatusCodes.Status404NotFound).Produces<ErrorResponse>(StatusCodes.Status409Conflict);
        MapUserAction(users, "/{userId}/disable", "Disable a user: no sign-in, sessions end, grants are revoked. Not yourself, not the last admin (409).",
            (service, id, actor, ct) => service.DisableAsync(id, actor, ct), conflict: true);
        MapUserAction(users, "/{userId}/enable", "Enable a disabled user: the lockout ends and the failed-attempt count restarts.",
            (service, id, actor, ct) => service.EnableAsync(id, actor, ct), conflict: false);
        MapUserAction(users, "/{userId}/unlock", "End a lockout after wrong passwords (lockout end cleared, failed-attempt count reset); 409 for a disabled user.",
            (service, id, actor, ct) => service.UnlockAsync(id, actor, ct), conflict: true);
        MapUserAction(users, "/{userId}/password-reset", "Force a password reset: the user must choose a new password at the next password sign-in; "
            + "sessions end and grants are revoked now. 400 for an account without a password.",
            (service, id, actor, ct) => service.RequirePasswordChangeAsync(id, actor, ct), conflict: false);
        users.MapPut("/{userId}/roles", SetRolesAsync)
            .WithSummary("Replace the user's roles (ASP.NET Core Identity roles, created when new); 'admin' opens the admin area. "
                + "You cannot take admin from yourself or the last admin (409).")
            .Accepts<UserRolesRequest>("application/json").Produces<UserModel>()
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest).Produces<ErrorResponse>(StatusCodes.Status404NotFound)
            .Produces<ErrorResponse>(StatusCodes.Status409Conflict);
        users.MapPost("/{userId}/claims", AddClaimAsync)
            .WithSummary("Add a custom claim, released by the scopes that list its type. Protocol claim names (sub, iss, aud, exp, ...) and the "
                + "server's own claims (name, email, roles, ...) are refused.")
            .Accepts<UserClaimRequest>("application/json").Produces<UserClaimModel>(StatusCodes.Status201Created)
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest).Produces<ErrorResponse>(StatusCodes.Status404NotFound)
            .Produces<ErrorResponse>(StatusCodes.Status409Conflict);
        users.MapDelete("/{userId}/claims/{type}", async (string userId, string type, UserAdminService service, HttpContext context, string? value = null) =>
                AdminApiResults.From(await service.RemoveClaimAsync(userId, type, value, AdminActor.From(context.User), context.RequestAborted),
                    removed => TypedResults.Ok(new RemovedModel(removed)), "No such user or claim."))
            .WithSummary("Remove the user's custom claims of a type (only the one with ?value= when given)")
            .Produces<RemovedModel>().Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        users.MapPost("/{userId}/sign-out", async (string userId, UserAdminService service, HttpContext context) =>
                await service.SignOutEverywhereAsync(userId, AdminActor.From(context.User), context.RequestAborted) is { } ended
                    ? TypedResults.Ok(new SignedOutModel(ended))
                    : AdminApiResults.NotFound(NoSuchUser))
            .WithSummary("Sign a person out everywhere: every session ends and every grant is revoked")
            .Produces<SignedOutModel>().Produces<ErrorResponse>(StatusCodes.Status404NotFound);

        api.MapGet("/roles", async (UserAdminService service, HttpContext context) =>
                TypedResults.Ok((await service.ListRolesAsync(context.RequestAborted)).Select(r => new RoleModel(r.Name, r.Members)).ToList()))
            .WithTags("Users").WithSummary("The roles, with how many users hold each").Produces<List<RoleModel>>();
        return api;
    }

    private static void MapUserAction(RouteGroupBuilder users, string pattern, string summary,
        Func<UserAdminService, string, AdminActor, CancellationToken, Task<AdminResult<UserView>>> action, bool conflict)
    {
        var endpoint = users.MapPost(pattern, async (string userId, UserAdminService service, HttpContext context) =>
                AdminApiResults.From(await action(service, userId, AdminActor.From(context.User), context.RequestAborted),
                    user => TypedResults.Ok(UserModel.From(user)), NoSuchUser))
            .WithSummary(summary)
            .Produces<UserModel>().Produces<ErrorResponse>(StatusCodes.Status400BadRequest).Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        if (conflict)
        {
            endpoint.Produces<ErrorResponse>(StatusCodes.Status409Conflict);
        }
    }

    private static async Task<IResult> ListUsersAsync(HttpContext context, UserAdminService service, string? q = null, string? limit = null, string? cursor = null)
    {
        if (!TryParseCount(limit, 50, 1, UserAdminService.MaximumPageSize, out var pageSize))
        {
            return AdminApiResults.Error(StatusCodes.Status400BadRequest, RegistrationErrors.InvalidRequest, $"limit must be 1 to {UserAdminService.MaximumPageSize}.");
        }

        if (q?.Length > 256)
        {
            return AdminApiResults.Error(StatusCodes.Status400BadRequest, RegistrationErrors.InvalidRequest, "q is limited to 256 characters.");
        }

        var page = await service.SearchAsync(q, pageSize, cursor, context.RequestAborted);
        if (page.NextCursor is { } next)
        {
            // RFC 8288: the next page, same filters.
            var link = QueryHelpers.AddQueryString(context.Request.Path, context.Request.Query
                .Where(p => p.Key != "cursor")
                .SelectMany(p => p.Value.Select(v => new KeyValuePair<string, string?>(p.Key, v)))
                .Append(new("cursor", next)));
            context.Response.Headers.Link = $"<{link}>; rel=\"next\"";
        }

        return TypedResults.Ok(new UserListModel([.. page.Users.Select(UserModel.From)], page.NextCursor));
    }

    private static async Task<IResult> CreateUserAsync(UserAdminService service, HttpContext context)
    {
        var (body, error) = await AdminApiResults.ReadJsonAsync<CreateUserRequest>(context.Request);
        if (error is not null)
        {
            return error;
        }

        if (string.IsNullOrWhiteSpace(body!.UserName))
        {
            return AdminApiResults.Error(StatusCodes.Status400BadRequest, RegistrationErrors.InvalidRequest, "username is required.");
        }

        var result = await service.CreateAsync(body.UserName.Trim(), body.Email, body.Password, admin: false, AdminActor.From(context.User), context.RequestAborted);
        return AdminApiResults.From(result, created => TypedResults.Created($"/admin/api/users/{Uri.EscapeDataString(created.User.Id)}",
            new CreatedUserModel(UserModel.From(created.User), created.GeneratedPassword)), NoSuchUser);
    }

    private static async Task<IResult> UpdateUserAsync(string userId, UserAdminService service, HttpContext context)
    {
        var (body, error) = await AdminApiResults.ReadJsonAsync<UserProfileRequest>(context.Request);
        if (error is not null)
        {
            return error;
        }

        var result = await service.UpdateProfileAsync(userId, new UserProfileChange(body!.UserName, body.Name, body.Email, body.EmailVerified),
            AdminActor.From(context.User), context.RequestAborted);
        return AdminApiResults.From(result, user => TypedResults.Ok(UserModel.From(user)), NoSuchUser);
    }

    private static async Task<IResult> SetRolesAsync(string userId, UserAdminService service, HttpContext context)
    {
        var (body, error) = await AdminApiResults.ReadJsonAsync<UserRolesRequest>(context.Request);
        if (error is not null)
        {
            return error;
        }

        if (body!.Roles is null || body.Roles.Count > 50)
        {
            return AdminApiResults.Error(StatusCodes.Status400BadRequest, RegistrationErrors.InvalidRequest, "roles is required: a list of at most 50 role names.");
        }

        var result = await service.SetRolesAsync(userId, body.Roles, AdminActor.From(context.User), context.RequestAborted);
        return AdminApiResults.From(result, user => TypedResults.Ok(UserModel.From(user)), NoSuchUser);
    }

    private static async Task<IResult> AddClaimAsync(string userId, UserAdminService service, HttpContext context)
    {
        var (body, error) = await AdminApiResults.ReadJsonAsync<UserClaimRequest>(context.Request);
        if (error is not null)
        {
            return error;
        }

        var result = await service.AddClaimAsync(userId, body!.Type, body.Value, AdminActor.From(context.User), context.RequestAborted);
        return AdminApiResults.From(result, claim => TypedResults.Created(
            $"/admin/api/users/{Uri.EscapeDataString(userId)}/claims/{Uri.EscapeDataString(claim.Type)}", new UserClaimModel(claim.Type, claim.Value)), NoSuchUser);
    }

    public static RouteGroupBuilder MapAccountsApi(this RouteGroupBuilder api)
    {
        api.MapUsersApi();

        api.MapGet("/audit", ListAuditAsync)
            .WithTags("Audit")
            .WithSummary("The audit log, newest first: admin changes and security events. Filters: kind, action, outcome, actor, user (by or about "
                + "the user: name or id), client (its events and the admin changes to it), target, from, to (ISO 8601, to exclusive); paging: limit (1-1000, default 100) and offset, with a Link rel=\"next\" header")
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

    private static async Task<IResult> ListAuditAsync(HttpContext context, AuditLog audit, UserManager<ApplicationUser> users, string? kind = null,
        string? action = null, string? outcome = null, string? actor = null, string? user = null, string? client = null, string? target = null,
        string? from = null, string? to = null, string? limit = null, string? offset = null)
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

        // A user name or a user id: entries by the user and about them.
        var userId = string.IsNullOrEmpty(user) ? null : (await users.FindByNameAsync(user))?.Id ?? user;
        var entries = await audit.QueryAsync(new AuditQuery
        {
            Kind = kind,
            Action = action,
            Outcome = outcome,
            ActorId = actor,
            UserId = userId,
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
