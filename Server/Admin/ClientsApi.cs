using IdentityServer.Audit;
using IdentityServer.Clients;
using IdentityServer.Protocol;

namespace IdentityServer.Admin;

/// <summary>The admin API for clients: CRUD, secret rotation, enable/disable, and the client's grants.</summary>
internal static class ClientsApi
{
    public static RouteGroupBuilder MapClientsApi(this RouteGroupBuilder api)
    {
        var clients = api.MapGroup("/clients").WithTags("Clients");
        clients.MapGet("", ListAsync).WithSummary("List clients").Produces<List<ClientResponse>>();
        clients.MapPost("", CreateAsync).WithSummary("Register a client; a confidential client's secret is in this answer only")
            .Accepts<ClientMetadata>("application/json").Produces<ClientResponse>(StatusCodes.Status201Created)
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest).Produces<ErrorResponse>(StatusCodes.Status409Conflict);
        clients.MapGet("/{clientId}", GetAsync).WithSummary("Get a client").Produces<ClientResponse>().Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        clients.MapPut("/{clientId}", UpdateAsync).WithSummary("Replace a client's settings")
            .Accepts<ClientMetadata>("application/json").Produces<ClientResponse>()
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest).Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        clients.MapDelete("/{clientId}", DeleteAsync).WithSummary("Delete a client, its grants and tokens")
            .Produces(StatusCodes.Status204NoContent).Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        clients.MapPost("/{clientId}/secret", RotateSecretAsync).WithSummary("Rotate the secret; the old one stays valid for the grace period")
            .Accepts<RotateSecretRequest>("application/json").Produces<RotateSecretResponse>()
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest).Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        clients.MapPost("/{clientId}/enable", (string clientId, ClientAdminService service, HttpContext context) => SetEnabledAsync(clientId, true, service, context))
            .WithSummary("Enable a client").Produces<ClientResponse>().Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        clients.MapPost("/{clientId}/disable", (string clientId, ClientAdminService service, HttpContext context) => SetEnabledAsync(clientId, false, service, context))
            .WithSummary("Disable a client: authorize, token, refresh and introspection refuse it at once")
            .Produces<ClientResponse>().Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        clients.MapGet("/{clientId}/grants", ListGrantsAsync).WithSummary("The client's active grants")
            .Produces<List<GrantModel>>().Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        clients.MapDelete("/{clientId}/grants", RevokeGrantsAsync).WithSummary("Revoke all the client's grants, or one person's (?subject=)")
            .Produces<RevokedModel>().Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        clients.MapDelete("/{clientId}/grants/{grantId}", RevokeGrantAsync).WithSummary("Revoke one grant")
            .Produces(StatusCodes.Status204NoContent).Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        return api;
    }

    private static async Task<IResult> ListAsync(ClientAdminService service, HttpContext context)
    {
        var clients = await service.ListAsync(context.RequestAborted);
        return TypedResults.Ok(clients.Select(c => ClientResponse.From(c)).ToList());
    }

    private static async Task<IResult> CreateAsync(ClientAdminService service, HttpContext context)
    {
        var (body, error) = await AdminApiResults.ReadJsonAsync<ClientMetadata>(context.Request, answerType: typeof(ClientResponse));
        if (error is not null)
        {
            return error;
        }

        var result = await service.CreateAsync(body!.ToDefinition(), AdminActor.From(context.User), context.RequestAborted);
        return AdminApiResults.From(result,
            created => TypedResults.Created($"/admin/api/clients/{Uri.EscapeDataString(created.Client.Definition.ClientId!)}",
                ClientResponse.From(created.Client, created.ClientSecret)),
            "No such client.");
    }

    private static async Task<IResult> GetAsync(string clientId, ClientAdminService service, HttpContext context)
    {
        var client = await service.GetAsync(clientId, context.RequestAborted);
        return client is null ? AdminApiResults.NotFound("No such client.") : TypedResults.Ok(ClientResponse.From(client));
    }

    private static async Task<IResult> UpdateAsync(string clientId, ClientAdminService service, HttpContext context)
    {
        var (body, error) = await AdminApiResults.ReadJsonAsync<ClientMetadata>(context.Request, answerType: typeof(ClientResponse));
        if (error is not null)
        {
            return error;
        }

        var result = await service.UpdateAsync(clientId, body!.ToDefinition(), AdminActor.From(context.User), context.RequestAborted);
        return AdminApiResults.From(result, updated => TypedResults.Ok(ClientResponse.From(updated.Client, updated.ClientSecret)), "No such client.");
    }

    private static async Task<IResult> DeleteAsync(string clientId, ClientAdminService service, HttpContext context) =>
        await service.DeleteAsync(clientId, AdminActor.From(context.User), context.RequestAborted)
            ? TypedResults.NoContent()
            : AdminApiResults.NotFound("No such client.");

    private static async Task<IResult> RotateSecretAsync(string clientId, ClientAdminService service, HttpContext context)
    {
        var (body, error) = await AdminApiResults.ReadJsonAsync<RotateSecretRequest>(context.Request, optional: true);
        if (error is not null)
        {
            return error;
        }

        if (body!.GracePeriodSeconds is < 0 or > 100L * 365 * 24 * 3600)
        {
            return AdminApiResults.Error(StatusCodes.Status400BadRequest, RegistrationErrors.InvalidRequest,
                $"grace_period_seconds must be between 0 and {ClientAdminService.MaxGracePeriod.TotalSeconds:0}.");
        }

        var grace = body.GracePeriodSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : (TimeSpan?)null;
        var result = await service.RotateSecretAsync(clientId, grace, AdminActor.From(context.User), context.RequestAborted);
        return AdminApiResults.From(result, rotation => TypedResults.Ok(new RotateSecretResponse(clientId, rotation.ClientSecret, rotation.PreviousSecretExpiresAt)),
            "No such client.");
    }

    private static async Task<IResult> SetEnabledAsync(string clientId, bool enabled, ClientAdminService service, HttpContext context)
    {
        var result = await service.SetEnabledAsync(clientId, enabled, AdminActor.From(context.User), context.RequestAborted);
        return AdminApiResults.From(result, view => TypedResults.Ok(ClientResponse.From(view)), "No such client.");
    }

    private static async Task<IResult> ListGrantsAsync(string clientId, ClientAdminService service, HttpContext context)
    {
        var grants = await service.ListGrantsAsync(clientId, context.RequestAborted);
        return grants is null ? AdminApiResults.NotFound("No such client.") : TypedResults.Ok(grants.Select(GrantModel.From).ToList());
    }

    private static async Task<IResult> RevokeGrantsAsync(string clientId, string? subject, ClientAdminService service, HttpContext context)
    {
        var revoked = await service.RevokeGrantsAsync(clientId, subject, AdminActor.From(context.User), context.RequestAborted);
        return revoked is null ? AdminApiResults.NotFound("No such client.") : TypedResults.Ok(new RevokedModel(revoked.Value));
    }

    private static async Task<IResult> RevokeGrantAsync(string clientId, string grantId, ClientAdminService service, HttpContext context) =>
        await service.RevokeGrantAsync(clientId, grantId, AdminActor.From(context.User), context.RequestAborted)
            ? TypedResults.NoContent()
            : AdminApiResults.NotFound("No such client or grant.");
}
